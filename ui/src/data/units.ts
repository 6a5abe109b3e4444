// Value formatting by unit id (Grafana's "unit" field option): scaling, SI and
// binary prefixes, durations, dates, currencies, booleans and custom units
// (`prefix:`, `suffix:`, `si:`, `count:`, `currency:`, `time:`, `bool:`),
// with Grafana's automatic decimals. Unknown ids become a suffix, as in Grafana.
import { formatDate, formatTimeAgo, localTimePattern } from './dateFormat';
import { type FormattedValue, toFixed, type ValueFormatter } from './numberFormat';
import { DURATION_UNITS } from './unitsTime';

export type { FormattedValue, ValueFormatter } from './numberFormat';
export { formattedValueToString, getDecimalsForValue, toFixed } from './numberFormat';

/** Plain number with an optional unit: "5 °C" (suffix, with a space) or "$5" (prefix). */
export function fixedUnit(unit: string, asPrefix = false): ValueFormatter {
  return (value, decimals) => {
    if (value === null) return { text: '' };
    const text = toFixed(value, decimals);
    if (!unit) return { text };
    return asPrefix ? { text, prefix: unit } : { text, suffix: ` ${unit}` };
  };
}

/**
 * Divides by powers of `factor` and picks the matching suffix; `offset` is the
 * index of the unscaled suffix (for units like kbytes that start above it).
 */
export function scaledUnits(factor: number, suffixes: string[], offset = 0): ValueFormatter {
  return (value, decimals) => {
    if (value === null || value === undefined) return { text: '' };
    if (!Number.isFinite(value)) return { text: value.toLocaleString() };
    const power = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(value)) / Math.log10(factor));
    const last = suffixes.length - 1;
    const suffix = suffixes[clamp(offset + power, 0, last)];
    return { text: toFixed(value / factor ** clamp(power, -offset, last - offset), decimals), suffix };
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

const SI_PREFIXES = ['f', 'p', 'n', 'µ', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SI_BASE = SI_PREFIXES.indexOf('');
const BINARY_PREFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

/** Decimal SI prefixes (k, M, G, ... and m, µ, n, ...); `offset` 1 means the value is already in k<unit>. */
export function siPrefix(unit: string, offset = 0): ValueFormatter {
  return scaledUnits(
    1000,
    SI_PREFIXES.map((p) => ` ${p}${unit}`),
    SI_BASE + offset,
  );
}

/** Binary prefixes (Ki, Mi, Gi, ...). */
export function binaryPrefix(unit: string, offset = 0): ValueFormatter {
  return scaledUnits(
    1024,
    BINARY_PREFIXES.map((p) => ` ${p}${unit}`),
    offset,
  );
}

/** K/M/B/T counts with a symbol after: "1.5 K req/s". */
export function countUnit(symbol: string): ValueFormatter {
  const scale = scaledUnits(1000, ['', 'K', 'M', 'B', 'T']);
  return (value, decimals) => {
    if (value === null) return { text: '' };
    const v = scale(value, decimals);
    // Grafana appends to an undefined suffix for NaN/±Infinity ("∞undefined req/s"); we keep the symbol only.
    v.suffix = `${v.suffix ?? ''} ${symbol}`;
    return v;
  };
}

/** Money: K/M/B/T scaling, the symbol before (or after) the number, the minus sign before the symbol. */
export function currency(symbol: string, asSuffix = false): ValueFormatter {
  const scale = scaledUnits(1000, ['', 'K', 'M', 'B', 'T']);
  return (value, decimals) => {
    if (value === null || value === undefined) return { text: '' };
    const negative = value < 0;
    const v = scale(Math.abs(value), decimals);
    if (asSuffix) v.suffix = v.suffix !== undefined ? `${v.suffix}${symbol}` : undefined;
    else v.prefix = symbol;
    if (negative) v.prefix = `-${v.prefix?.length ? v.prefix : ''}`;
    return v;
  };
}

/** `currency:financial:<symbol>[:suffix]`: locale grouping, no scaling. */
function financialCurrency(symbol: string, asSuffix: boolean): ValueFormatter {
  const formatters = new Map<number, Intl.NumberFormat>();
  const get = (min: number, max: number) => {
    const key = min * 1000 + max;
    let f = formatters.get(key);
    if (!f) {
      f = new Intl.NumberFormat(undefined, { minimumFractionDigits: min, maximumFractionDigits: max });
      formatters.set(key, f);
    }
    return f;
  };
  return (value, decimals) => {
    if (value === null) return { text: '' };
    const text = decimals != null ? get(decimals, decimals).format(value) : get(0, 1).format(value);
    return { prefix: asSuffix ? '' : symbol, suffix: asSuffix ? symbol : '', text };
  };
}

/** Booleans: any truthy value shows `t`, anything else `f`. */
export function booleanFormatter(t: string, f: string): ValueFormatter {
  return (value) => ({ text: value ? t : f });
}

export function isBooleanUnit(unit?: string | null): boolean {
  return Boolean(unit?.startsWith('bool'));
}

function percent(value: number | null, decimals?: number | null): FormattedValue {
  if (value === null) return { text: '' };
  return { text: toFixed(value, decimals), suffix: '%' };
}

function percentUnit(value: number | null, decimals?: number | null): FormattedValue {
  if (value === null) return { text: '' };
  return { text: toFixed(100 * value, decimals), suffix: '%' };
}

function hex(value: number | null, decimals?: number | null): FormattedValue {
  if (value == null) return { text: '' };
  return { text: Number.parseFloat(toFixed(value, decimals)).toString(16).toUpperCase() };
}

function hex0x(value: number | null, decimals?: number | null): FormattedValue {
  if (value == null) return { text: '' };
  const h = hex(value, decimals);
  h.text = h.text.startsWith('-') ? `-0x${h.text.slice(1)}` : `0x${h.text}`;
  return h;
}

function sci(value: number | null, decimals?: number | null): FormattedValue {
  if (value == null) return { text: '' };
  return { text: value.toExponential(decimals ?? undefined) };
}

function locale(value: number | null, decimals?: number | null): FormattedValue {
  if (value == null) return { text: '' };
  return { text: value.toLocaleString(undefined, { maximumFractionDigits: decimals ?? undefined }) };
}

/** A dateTime unit: epoch ms in the given zone with a moment-style pattern. */
export function dateTimeFormatter(pattern: string, todayPattern?: string): ValueFormatter {
  return (value, _decimals, _scaled, timeZone) => {
    const ms = value as number;
    if (todayPattern && Number.isFinite(ms)) {
      const day = (t: number) => formatDate(t, 'YYYY-MM-DD', timeZone);
      if (day(ms) === day(Date.now())) return { text: formatDate(ms, todayPattern, timeZone) };
    }
    return { text: formatDate(ms, pattern, timeZone) };
  };
}

/** Grafana's default "system" date formats (no server-side override here). */
export const SYSTEM_DATE_FORMAT = 'YYYY-MM-DD HH:mm:ss';
export const SYSTEM_DATE_MS_FORMAT = 'YYYY-MM-DD HH:mm:ss.SSS';

const dateTimeAsSystem: ValueFormatter = (value, _d, _s, timeZone, showMs) => ({
  text: formatDate(value as number, showMs ? SYSTEM_DATE_MS_FORMAT : SYSTEM_DATE_FORMAT, timeZone),
});

const dateTimeFromNow: ValueFormatter = (value) => ({ text: formatTimeAgo(value as number) });

const LOCAL_FULL: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
};
const LOCAL_TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit' };

function browserLocales(): string[] | undefined {
  const nav = (globalThis as { navigator?: { languages?: readonly string[] } }).navigator;
  return nav?.languages ? [...nav.languages] : undefined;
}

// Units that are a plain number with a fixed suffix.
const SUFFIX_UNITS: Record<string, string> = {
  humidity: '%H',
  dB: 'dB',
  pixel: 'px',
  accMS2: 'm/sec²',
  accFS2: 'f/sec²',
  accG: 'g',
  degree: '°',
  radian: 'rad',
  grad: 'grad',
  arcmin: 'arcmin',
  arcsec: 'arcsec',
  areaM2: 'm²',
  areaF2: 'ft²',
  areaMI2: 'mi²',
  acres: 'ac',
  hectares: 'ha',
  ppm: 'ppm',
  conppb: 'ppb',
  conngm3: 'ng/m³',
  conngNm3: 'ng/Nm³',
  conμgm3: 'μg/m³',
  conμgNm3: 'μg/Nm³',
  conmgm3: 'mg/m³',
  conmgNm3: 'mg/Nm³',
  congm3: 'g/m³',
  congNm3: 'g/Nm³',
  conmgdL: 'mg/dL',
  conmmolL: 'mmol/L',
  dBm: 'dbm',
  flowgpm: 'gpm',
  flowcms: 'cms',
  flowcfs: 'cfs',
  flowcfm: 'cfm',
  litreh: 'L/h',
  flowlpm: 'L/min',
  flowmlpm: 'mL/min',
  lux: 'lux',
  masslb: 'lb',
  masst: 't',
  lengthcm: 'cm',
  lengthin: 'in',
  lengthft: 'ft',
  lengthmi: 'mi',
  pressurehpa: 'hPa',
  pressurekpa: 'kPa',
  pressurehg: '"Hg',
  rotrpm: 'rpm',
  rotrads: 'rad/s',
  rotdegs: '°/s',
  celsius: '°C',
  fahrenheit: '°F',
  farenheit: '°F', // Grafana keeps this misspelt id as an alias
  kelvin: 'K',
  velocityms: 'm/s',
  velocitykmh: 'km/h',
  velocitymph: 'mph',
  velocityknot: 'kn',
  m3: 'm³',
  Nm3: 'Nm³',
  dm3: 'dm³',
  gallons: 'gal',
};

// Units with SI prefixes: [symbol, offset of the unit's own prefix].
const SI_UNITS: Record<string, [string, number]> = {
  sishort: ['', 0],
  candela: ['cd', 0],
  flops: ['FLOPS', 0],
  mflops: ['FLOPS', 2],
  gflops: ['FLOPS', 3],
  tflops: ['FLOPS', 4],
  pflops: ['FLOPS', 5],
  eflops: ['FLOPS', 6],
  zflops: ['FLOPS', 7],
  yflops: ['FLOPS', 8],
  decbytes: ['B', 0],
  decbits: ['b', 0],
  deckbytes: ['B', 1],
  decmbytes: ['B', 2],
  decgbytes: ['B', 3],
  dectbytes: ['B', 4],
  decpbytes: ['B', 5],
  pps: ['p/s', 0],
  Bps: ['B/s', 0],
  bps: ['b/s', 0],
  KBs: ['B/s', 1],
  Kbits: ['b/s', 1],
  MBs: ['B/s', 2],
  Mbits: ['b/s', 2],
  GBs: ['B/s', 3],
  Gbits: ['b/s', 3],
  TBs: ['B/s', 4],
  Tbits: ['b/s', 4],
  PBs: ['B/s', 5],
  Pbits: ['b/s', 5],
  watt: ['W', 0],
  kwatt: ['W', 1],
  megwatt: ['W', 2],
  gwatt: ['W', 3],
  mwatt: ['W', -1],
  Wm2: ['W/m²', 0],
  voltamp: ['VA', 0],
  kvoltamp: ['VA', 1],
  voltampreact: ['VAr', 0],
  kvoltampreact: ['VAr', 1],
  watth: ['Wh', 0],
  watthperkg: ['Wh/kg', 0],
  kwatth: ['Wh', 1],
  kwattm: ['W-Min', 1],
  mwatth: ['Wh', 2],
  amph: ['Ah', 0],
  kamph: ['Ah', 1],
  mamph: ['Ah', -1],
  joule: ['J', 0],
  ev: ['eV', 0],
  amp: ['A', 0],
  kamp: ['A', 1],
  mamp: ['A', -1],
  volt: ['V', 0],
  kvolt: ['V', 1],
  mvolt: ['V', -1],
  mohm: ['Ω', -1],
  ohm: ['Ω', 0],
  kohm: ['Ω', 1],
  Mohm: ['Ω', 2],
  farad: ['F', 0],
  µfarad: ['F', -2],
  nfarad: ['F', -3],
  pfarad: ['F', -4],
  ffarad: ['F', -5],
  henry: ['H', 0],
  mhenry: ['H', -1],
  µhenry: ['H', -2],
  lumens: ['Lm', 0],
  forceNm: ['Nm', 0],
  forcekNm: ['Nm', 1],
  forceN: ['N', 0],
  forcekN: ['N', 1],
  Hs: ['H/s', 0],
  KHs: ['H/s', 1],
  MHs: ['H/s', 2],
  GHs: ['H/s', 3],
  THs: ['H/s', 4],
  PHs: ['H/s', 5],
  EHs: ['H/s', 6],
  massmg: ['g', -1],
  massg: ['g', 0],
  masskg: ['g', 1],
  lengthmm: ['m', -1],
  lengthm: ['m', 0],
  lengthkm: ['m', 1],
  pressurembar: ['bar', -1],
  pressurebar: ['bar', 0],
  pressurekbar: ['bar', 1],
  pressurepa: ['Pa', 0],
  radbq: ['Bq', 0],
  radci: ['Ci', 0],
  radgy: ['Gy', 0],
  radrad: ['rad', 0],
  radsv: ['Sv', 0],
  radmsv: ['Sv', -1],
  radusv: ['Sv', -2],
  radrem: ['rem', 0],
  radexpckg: ['C/kg', 0],
  radr: ['R', 0],
  radsvh: ['Sv/h', 0],
  radmsvh: ['Sv/h', -1],
  radusvh: ['Sv/h', -2],
  rothz: ['Hz', 0],
  rotkhz: ['Hz', 1],
  rotmhz: ['Hz', 2],
  rotghz: ['Hz', 3],
  hertz: ['Hz', 0],
  mlitre: ['L', -1],
  litre: ['L', 0],
};

// Units with binary (1024) prefixes: [symbol, offset].
const BINARY_UNITS: Record<string, [string, number]> = {
  bytes: ['B', 0],
  bits: ['b', 0],
  kbytes: ['B', 1],
  mbytes: ['B', 2],
  gbytes: ['B', 3],
  tbytes: ['B', 4],
  pbytes: ['B', 5],
  binBps: ['B/s', 0],
  binbps: ['b/s', 0],
  KiBs: ['B/s', 1],
  Kibits: ['b/s', 1],
  MiBs: ['B/s', 2],
  Mibits: ['b/s', 2],
  GiBs: ['B/s', 3],
  Gibits: ['b/s', 3],
  TiBs: ['B/s', 4],
  Tibits: ['b/s', 4],
  PiBs: ['B/s', 5],
  Pibits: ['b/s', 5],
};

// Rates counted with K/M/B/T: id -> symbol.
const COUNT_UNITS: Record<string, string> = {
  cps: 'c/s',
  ops: 'ops/s',
  reqps: 'req/s',
  rps: 'rd/s',
  wps: 'wr/s',
  iops: 'io/s',
  eps: 'evt/s',
  mps: 'msg/s',
  recps: 'rec/s',
  rowsps: 'rows/s',
  cpm: 'c/m',
  opm: 'ops/m',
  reqpm: 'req/m',
  rpm: 'rd/m',
  wpm: 'wr/m',
  epm: 'evts/m',
  mpm: 'msgs/m',
  recpm: 'rec/m',
  rowspm: 'rows/m',
};

// Currencies: id -> [symbol, symbol after the number].
const CURRENCY_UNITS: Record<string, [string, boolean]> = {
  currencyUSD: ['$', false],
  currencyGBP: ['£', false],
  currencyEUR: ['€', false],
  currencyJPY: ['¥', false],
  currencyRUB: ['₽', false],
  currencyUAH: ['₴', false],
  currencyBRL: ['R$', false],
  currencyDKK: ['kr', true],
  currencyISK: ['kr', true],
  currencyNOK: ['kr', true],
  currencySEK: ['kr', true],
  currencyCZK: ['czk', false],
  currencyCHF: ['CHF', false],
  currencyPLN: ['PLN', false],
  currencyBTC: ['฿', false],
  currencymBTC: ['mBTC', false],
  currencyμBTC: ['μBTC', false],
  currencyZAR: ['R', false],
  currencyINR: ['₹', false],
  currencyKRW: ['₩', false],
  currencyIDR: ['Rp', false],
  currencyPHP: ['PHP', false],
  currencyVND: ['đ', true],
  currencyTRY: ['₺', true],
  currencyMYR: ['RM', false],
  currencyXPF: ['XPF', false],
  currencyBGN: ['BGN', false],
  currencyPYG: ['₲', false],
  currencyUYU: ['UYU', false],
  currencyILS: ['₪', false],
};

let index: Map<string, ValueFormatter> | undefined;

function buildIndex(): Map<string, ValueFormatter> {
  const m = new Map<string, ValueFormatter>();
  m.set('none', fixedUnit(''));
  m.set('string', (value) => ({ text: `${value}` }));
  m.set('short', scaledUnits(1000, ['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint', ' Sext', ' Sept']));
  m.set('percent', percent);
  m.set('percentunit', percentUnit);
  m.set('hex0x', hex0x);
  m.set('hex', hex);
  m.set('sci', sci);
  m.set('locale', locale);
  m.set('pressurepsi', scaledUnits(1000, ['psi', 'ksi', 'Mpsi']));
  for (const [id, unit] of Object.entries(SUFFIX_UNITS)) m.set(id, fixedUnit(unit));
  for (const [id, [unit, offset]] of Object.entries(SI_UNITS)) m.set(id, siPrefix(unit, offset));
  for (const [id, [unit, offset]] of Object.entries(BINARY_UNITS)) m.set(id, binaryPrefix(unit, offset));
  for (const [id, symbol] of Object.entries(COUNT_UNITS)) m.set(id, countUnit(symbol));
  for (const [id, [symbol, after]] of Object.entries(CURRENCY_UNITS)) m.set(id, currency(symbol, after));
  for (const [id, fn] of Object.entries(DURATION_UNITS)) m.set(id, fn);
  m.set('dateTimeAsIso', dateTimeFormatter('YYYY-MM-DD HH:mm:ss'));
  m.set('dateTimeAsIsoNoDateIfToday', dateTimeFormatter('YYYY-MM-DD HH:mm:ss', 'HH:mm:ss'));
  m.set('dateTimeAsUS', dateTimeFormatter('MM/DD/YYYY h:mm:ss a'));
  m.set('dateTimeAsUSNoDateIfToday', dateTimeFormatter('MM/DD/YYYY h:mm:ss a', 'h:mm:ss a'));
  const locales = browserLocales();
  m.set('dateTimeAsLocal', dateTimeFormatter(localTimePattern(LOCAL_FULL, locales)));
  m.set(
    'dateTimeAsLocalNoDateIfToday',
    dateTimeFormatter(localTimePattern(LOCAL_FULL, locales), localTimePattern(LOCAL_TIME, locales)),
  );
  m.set('dateTimeAsSystem', dateTimeAsSystem);
  m.set('dateTimeFromNow', dateTimeFromNow);
  m.set('bool', booleanFormatter('True', 'False'));
  m.set('bool_yes_no', booleanFormatter('Yes', 'No'));
  m.set('bool_on_off', booleanFormatter('On', 'Off'));
  return m;
}

/** Every unit id with a built-in formatter (custom `kind:` units excluded). */
export function unitIds(): string[] {
  index ??= buildIndex();
  return [...index.keys()];
}

/** The formatter for a unit id; empty means "none", unknown ids become a suffix. */
export function getValueFormat(id?: string | null): ValueFormatter {
  if (!id) return fixedUnit('');
  index ??= buildIndex();
  const known = index.get(id);
  if (known) return known;
  const colon = id.indexOf(':');
  if (colon > 0) {
    const kind = id.slice(0, colon);
    const arg = id.slice(colon + 1);
    switch (kind) {
      case 'prefix':
        return fixedUnit(arg, true);
      case 'suffix':
        return fixedUnit(arg, false);
      case 'time':
        return dateTimeFormatter(arg);
      case 'si': {
        const at = SI_PREFIXES.findIndex((p) => p.normalize('NFKD') === arg.charAt(0).normalize('NFKD'));
        const offset = at < 0 ? 0 : at - SI_BASE;
        return siPrefix(offset === 0 ? arg : arg.slice(1), offset);
      }
      case 'count':
        return countUnit(arg);
      case 'currency': {
        const parts = arg.split(':');
        if (parts[0] === 'financial' && parts.length >= 2) {
          return parts[1] ? financialCurrency(parts[1], parts[2] === 'suffix') : fixedUnit('');
        }
        return currency(arg);
      }
      case 'bool': {
        const slash = arg.indexOf('/');
        return slash >= 0
          ? booleanFormatter(arg.slice(0, slash), arg.slice(slash + 1))
          : booleanFormatter(arg, '-');
      }
    }
  }
  return fixedUnit(id);
}
