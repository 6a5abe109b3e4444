// Colours: Grafana's named colours (dark theme) to CSS, the classic series
// palette, and the colour helpers the field colour modes need (shades and
// continuous schemes).

/** Grafana's colour for anything without one (thresholds/fixed fallback). */
export const FALLBACK_COLOR = '#808080';

/** The dark theme's hues: name -> [super-light, light, primary, semi-dark, dark]. */
const HUES: Record<string, [string, string, string, string, string]> = {
  red: ['#FFA6B0', '#FF7383', '#F2495C', '#E02F44', '#C4162A'],
  orange: ['#FFCB7D', '#FFB357', '#FF9830', '#FF780A', '#FA6400'],
  yellow: ['#FFF899', '#FFEE52', '#FADE2A', '#F2CC0C', '#E0B400'],
  green: ['#C8F2C2', '#96D98D', '#73BF69', '#56A64B', '#37872D'],
  blue: ['#C0D8FF', '#8AB8FF', '#5794F2', '#3274D9', '#1F60C4'],
  purple: ['#DEB6F2', '#CA95E5', '#B877D9', '#A352CC', '#8F3BB8'],
};

/** The dark theme's panel background and primary text colour. */
export const THEME = {
  panelBackground: '#181b1f',
  text: 'rgb(204, 204, 220)',
  transparent: 'rgba(0,0,0,0)',
};

const NAMED: Record<string, string> = (() => {
  const m: Record<string, string> = {};
  for (const [hue, shades] of Object.entries(HUES)) {
    const [superLight, light, primary, semiDark, dark] = shades;
    m[`super-light-${hue}`] = superLight;
    m[`light-${hue}`] = light;
    m[hue] = primary;
    m[`semi-dark-${hue}`] = semiDark;
    m[`dark-${hue}`] = dark;
  }
  m.transparent = THEME.transparent;
  m['panel-bg'] = THEME.panelBackground;
  m.text = THEME.text;
  return m;
})();

// CSS's named colours (lower case), which Grafana accepts after its own names.
const CSS_COLORS: Record<string, string> = (() => {
  const words = (
    'aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc bisque ' +
    'ffe4c4 black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a burlywood deb887 ' +
    'cadetblue 5f9ea0 chartreuse 7fff00 chocolate d2691e coral ff7f50 cornflowerblue 6495ed cornsilk fff8dc ' +
    'crimson dc143c cyan 00ffff darkblue 00008b darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 ' +
    'darkgreen 006400 darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid ' +
    '9932cc darkred 8b0000 darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b darkslategray 2f4f4f ' +
    'darkturquoise 00ced1 darkviolet 9400d3 deeppink ff1493 deepskyblue 00bfff dimgray 696969 dodgerblue ' +
    '1e90ff firebrick b22222 floralwhite fffaf0 forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc ' +
    'ghostwhite f8f8ff gold ffd700 goldenrod daa520 gray 808080 green 008000 greenyellow adff2f honeydew ' +
    'f0fff0 hotpink ff69b4 indigo 4b0082 ivory fffff0 khaki f0e68c lavender e6e6fa lavenderblush fff0f5 ' +
    'lawngreen 7cfc00 lemonchiffon fffacd lightblue add8e6 lightcoral f08080 lightcyan e0ffff ' +
    'lightgoldenrodyellow fafad2 lightgrey d3d3d3 lightgreen 90ee90 lightpink ffb6c1 lightsalmon ffa07a ' +
    'lightseagreen 20b2aa lightskyblue 87cefa lightslategray 778899 lightsteelblue b0c4de lightyellow ffffe0 ' +
    'lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff maroon 800000 mediumaquamarine 66cdaa ' +
    'mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370d8 mediumseagreen 3cb371 mediumslateblue 7b68ee ' +
    'mediumspringgreen 00fa9a mediumturquoise 48d1cc mediumvioletred c71585 midnightblue 191970 mintcream ' +
    'f5fffa mistyrose ffe4e1 moccasin ffe4b5 navajowhite ffdead navy 000080 oldlace fdf5e6 olive 808000 ' +
    'olivedrab 6b8e23 orange ffa500 orangered ff4500 orchid da70d6 palegoldenrod eee8aa palegreen 98fb98 ' +
    'paleturquoise afeeee palevioletred d87093 papayawhip ffefd5 peachpuff ffdab9 peru cd853f pink ffc0cb ' +
    'plum dda0dd powderblue b0e0e6 purple 800080 rebeccapurple 663399 red ff0000 rosybrown bc8f8f royalblue ' +
    '4169e1 saddlebrown 8b4513 salmon fa8072 sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d ' +
    'silver c0c0c0 skyblue 87ceeb slateblue 6a5acd slategray 708090 snow fffafa springgreen 00ff7f steelblue ' +
    '4682b4 tan d2b48c teal 008080 thistle d8bfd8 tomato ff6347 turquoise 40e0d0 violet ee82ee wheat f5deb3 ' +
    'white ffffff whitesmoke f5f5f5 yellow ffff00 yellowgreen 9acd32 ' +
    ''
  ).split(' ');
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < words.length; i += 2) m[words[i]] = `#${words[i + 1]}`;
  return m;
})();

/**
 * A colour name as Grafana resolves it: its named colours first ("green",
 * "semi-dark-red", "text", "transparent", "panel-bg"), then "#..." and rgb()/rgba()
 * as given, then CSS colour names (any case); anything else is returned as is.
 * Empty gives the fallback grey.
 */
export function getColorForTheme(name: string | undefined | null): string {
  if (!name) return FALLBACK_COLOR;
  const named = NAMED[name];
  if (named) return named;
  if (name[0] === '#' || name.includes('rgb')) return name;
  return CSS_COLORS[name.toLowerCase()] ?? name;
}

/** Grafana's classic series palette, resolved to hex (series i gets entry i mod 64). */
export const classicPalette: readonly string[] = [
  ...['green', 'semi-dark-yellow', 'blue', 'orange', 'red', 'purple'].map((n) => NAMED[n]),
  ...['dark-green', 'dark-yellow', 'dark-blue', 'dark-orange', 'dark-red', 'dark-purple'].map(
    (n) => NAMED[n],
  ),
  ...['green', 'yellow', 'blue', 'orange', 'red', 'purple'].map((h) => NAMED[`super-light-${h}`]),
  ...(
    '#447EBC #C15C17 #890F02 #0A437C #6D1F62 #584477 #B7DBAB #F4D598 #70DBED #F9BA8F #F29191 #82B5D8 ' +
    '#E5A8E2 #AEA2E0 #629E51 #E5AC0E #64B0C8 #E0752D #BF1B00 #0A50A1 #962D82 #614D93 #9AC48A #F2C96D ' +
    '#65C5DB #F9934E #EA6460 #5195CE #D683CE #806EB7 #3F6833 #967302 #2F575E #99440A #58140C #052B51 ' +
    '#511749 #3F2B5B #E0F9D7 #FCEACA #CFFAFF #F9E2D2 #FCE2DE #BADFF4 #F9D9F9 #DEDAF7'
  ).split(' '),
];

/** An RGBA colour with channels 0-255 and alpha 0-1. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba() and named colours; undefined when not a colour. */
export function parseColor(input: string): Rgba | undefined {
  const c = getColorForTheme(input).trim();
  if (c[0] === '#') {
    let hex = c.slice(1);
    if (hex.length === 3 || hex.length === 4) hex = [...hex].map((x) => x + x).join('');
    if (!/^[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(hex)) return undefined;
    const n = (i: number) => Number.parseInt(hex.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: hex.length === 8 ? n(6) / 255 : 1 };
  }
  const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(c);
  if (!m) return undefined;
  let a = 1;
  if (m[4] !== undefined) a = m[4].endsWith('%') ? Number.parseFloat(m[4]) / 100 : Number(m[4]);
  return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a };
}

function hex2(n: number): string {
  return Math.round(Math.min(255, Math.max(0, n)))
    .toString(16)
    .padStart(2, '0');
}

/** "#rrggbb" (lower case), or "#rrggbbaa" when not opaque. */
export function toHex(c: Rgba): string {
  const base = `#${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}`;
  return c.a < 1 ? base + hex2(c.a * 255) : base;
}

/** A colour with its alpha replaced, as "rgba(r, g, b, a)" (used for fills). */
export function withAlpha(color: string, alpha: number): string {
  const c = parseColor(color);
  if (!c) return color;
  return `rgba(${c.r}, ${c.g}, ${c.b}, ${alpha})`;
}

/** WCAG relative luminance rounded to 3 places, as Grafana computes it. */
export function luminance(color: string): number {
  const c = parseColor(color);
  if (!c) return 0;
  const lin = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return Number((0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b)).toFixed(3));
}

/** WCAG contrast ratio between two colours. */
export function contrastRatio(a: string, b: string): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

// --- HSL helpers for "shades" (the tinycolor operations Grafana uses) ---

interface Hsl {
  h: number; // 0-1
  s: number;
  l: number;
}

function rgbToHsl(r: number, g: number, b: number): Hsl {
  const rr = r / 255;
  const gg = g / 255;
  const bb = b / 255;
  const max = Math.max(rr, gg, bb);
  const min = Math.min(rr, gg, bb);
  const l = (max + min) / 2;
  if (max === min) return { h: 0, s: 0, l };
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  let h: number;
  if (max === rr) h = (gg - bb) / d + (gg < bb ? 6 : 0);
  else if (max === gg) h = (bb - rr) / d + 2;
  else h = (rr - gg) / d + 4;
  return { h: h / 6, s, l };
}

function hslToRgb({ h, s, l }: Hsl): [number, number, number] {
  if (s === 0) return [l * 255, l * 255, l * 255];
  const hue = (p: number, q: number, t0: number) => {
    let t = t0;
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  return [hue(p, q, h + 1 / 3) * 255, hue(p, q, h) * 255, hue(p, q, h - 1 / 3) * 255];
}

/**
 * tinycolor passes saturation/lightness back as percentage strings and keeps
 * only two decimals of the percentage (truncated); mirroring that keeps the
 * shades identical to Grafana's.
 */
function viaPercent(x: number): number {
  const n = Math.min(100, Math.max(0, x * 100));
  const v = Number.parseInt(String(n * 100), 10) / 100;
  return Math.abs(v - 100) < 0.000001 ? 1 : (v % 100) / 100;
}

function fromHsl(hsl: Hsl): [number, number, number] {
  return hslToRgb({ h: hsl.h, s: viaPercent(hsl.s), l: viaPercent(hsl.l) });
}

/** Rotates the hue by `degrees`. */
function spin(c: [number, number, number], degrees: number): [number, number, number] {
  const hsl = rgbToHsl(...c);
  const h = (hsl.h * 360 + degrees) % 360;
  const deg = Math.min(360, Math.max(0, h < 0 ? 360 + h : h));
  return fromHsl({ ...hsl, h: Math.abs(deg - 360) < 0.000001 ? 1 : (deg % 360) / 360 });
}

/** Adds `amount` percent of white to each channel. */
function brighten(c: [number, number, number], amount: number): [number, number, number] {
  const add = Math.round(255 * -(amount / 100));
  return c.map((v) => Math.max(0, Math.min(255, Math.round(v) - add))) as [number, number, number];
}

/** Lowers HSL lightness by `amount` percent. */
function darken(c: [number, number, number], amount: number): [number, number, number] {
  const hsl = rgbToHsl(...c);
  return fromHsl({ ...hsl, l: Math.min(1, Math.max(0, hsl.l - amount / 100)) });
}

/**
 * The "shades" colour mode's list for a base colour: the base, then pairs of
 * lighter and darker variants with a slight hue shift (series i takes entry i mod 11).
 */
export function shadesOf(base: string): string[] {
  const resolved = getColorForTheme(base);
  const c = parseColor(resolved);
  if (!c) return [resolved];
  const rgb: [number, number, number] = [c.r, c.g, c.b];
  const out = [resolved];
  const count = 6;
  for (let i = 1; i < count; i++) {
    const f = i / count;
    out.push(toHex({ ...rgbOf(brighten(spin(rgb, f * 10), f * 35)), a: 1 }));
    out.push(toHex({ ...rgbOf(darken(spin(rgb, -f * 10), f * 35)), a: 1 }));
  }
  return out;
}

function rgbOf([r, g, b]: [number, number, number]): { r: number; g: number; b: number } {
  return { r, g, b };
}

/**
 * A uniform cubic B-spline through colours (as d3's interpolateRgbBasis),
 * giving "rgb(r, g, b)" for t in [0, 1]: what continuous colour schemes use.
 */
export function rgbBasis(colors: string[]): (t: number) => string {
  const parsed = colors.map((x) => parseColor(x) ?? { r: 0, g: 0, b: 0, a: 1 });
  const channel = (values: number[]) => {
    const n = values.length - 1;
    return (t0: number) => {
      let t = t0;
      let i: number;
      if (t <= 0) {
        t = 0;
        i = 0;
      } else if (t >= 1) {
        t = 1;
        i = n - 1;
      } else i = Math.floor(t * n);
      const v1 = values[i];
      const v2 = values[i + 1];
      const v0 = i > 0 ? values[i - 1] : 2 * v1 - v2;
      const v3 = i < n - 1 ? values[i + 2] : 2 * v2 - v1;
      const x = (t - i / n) * n;
      const x2 = x * x;
      const x3 = x2 * x;
      return (
        ((1 - 3 * x + 3 * x2 - x3) * v0 +
          (4 - 6 * x2 + 3 * x3) * v1 +
          (1 + 3 * x + 3 * x2 - 3 * x3) * v2 +
          x3 * v3) /
        6
      );
    };
  };
  const r = channel(parsed.map((p) => p.r));
  const g = channel(parsed.map((p) => p.g));
  const b = channel(parsed.map((p) => p.b));
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v) || 0));
  return (t) => `rgb(${clamp(r(t))}, ${clamp(g(t))}, ${clamp(b(t))})`;
}

/** The hash Grafana uses to pick a palette colour from a series name (string-hash's djb2 variant). */
export function stringHash(s: string): number {
  let h = 5381;
  for (let i = s.length; i > 0; ) h = (h * 33) ^ s.charCodeAt(--i);
  return h >>> 0;
}
