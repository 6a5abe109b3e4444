// Unit formatting: hand-written cases from Grafana's behaviour, and an oracle
// comparison of every unit id x many values x decimals with @grafana/data.
// TZ=UTC is set by vitest.config.ts; Date is frozen so "from now"/"today" units agree.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formattedValueToString, getValueFormat, toFixed, unitIds } from '../../src/data/units';
import { edgeNumbers, randomNumbers, SPECIAL_NUMBERS, timestamps } from './gen';
import { loadGrafana } from './oracle';

const NOW = 1733400000000; // 2024-12-05T12:00:00Z

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterAll(() => {
  vi.useRealTimers();
});

function fmt(unit: string, value: number | null, decimals: number | null = null): string {
  return formattedValueToString(getValueFormat(unit)(value, decimals));
}

describe('units: hand-written cases', () => {
  const cases: [string, number | null, number | null, string][] = [
    ['short', 1500, null, '1.50 K'],
    ['short', 1234567, 1, '1.2 Mil'],
    ['short', 0.000123, null, '0.000123'],
    ['none', 12.3456, null, '12.3'],
    ['none', 12.3456, 2, '12.35'],
    ['none', 5, 2, '5.00'],
    ['percent', 42.123, 1, '42.1%'],
    ['percentunit', 0.4212, 1, '42.1%'],
    ['bytes', 1024, null, '1 KiB'],
    ['bytes', 1536, null, '1.50 KiB'],
    ['decbytes', 1500, null, '1.50 kB'],
    ['kbytes', 2048, null, '2 MiB'],
    ['bits', 8, null, '8 b'],
    ['Bps', 1e6, null, '1 MB/s'],
    ['bps', 2.5e9, null, '2.50 Gb/s'],
    ['binBps', 1024, 0, '1 KiB/s'],
    ['ms', 1500, null, '1.50 s'],
    ['ms', 90000, null, '1.50 mins'],
    ['s', 0, null, '0 s'],
    ['s', 0.0015, null, '1.50 ms'],
    ['s', 7200, null, '2 hours'],
    ['s', 3600, null, '1 hour'],
    ['m', 30, null, '30 min'],
    ['h', 48, null, '2 days'],
    ['d', 1, null, '1 day'],
    ['ns', 1500, null, '1.50 µs'],
    ['µs', 1500, null, '1.50 ms'],
    ['dtdurations', 3661, null, '1 hour'],
    ['dtdurations', 3661, 2, '1 hour, 1 minute, 1 second'],
    ['dtdurationms', -1000, null, '1 second ago'],
    ['dthms', 3661, null, '01:01:01'],
    ['dtdhms', 90061, null, '1 d 01:01:01'],
    ['clockms', 61001, null, '01m:01s:001ms'],
    ['reqps', 1500, null, '1.50K req/s'],
    ['ops', 12, null, '12 ops/s'],
    ['hertz', 2e9, null, '2 GHz'],
    ['celsius', 21.5, null, '21.5 °C'],
    ['currencyUSD', -1500, null, '-$1.50K'],
    ['currencyEUR', 12, 2, '€12.00'],
    ['currencySEK', 12, null, '12kr'],
    ['bool', 1, null, 'True'],
    ['bool_yes_no', 0, null, 'No'],
    ['bool_on_off', 1, null, 'On'],
    ['hex', 255, null, 'FF'],
    ['hex0x', -255, null, '-0xFF'],
    ['sci', 12345, 2, '1.23e+4'],
    ['locale', 1234567.891, 2, '1,234,567.89'],
    ['degree', 90, null, '90 °'],
    ['humidity', 40, null, '40 %H'],
    ['ppm', 3, null, '3 ppm'],
    ['dB', -3, null, '-3 dB'],
    ['dateTimeAsIso', 0, null, '1970-01-01 00:00:00'],
    ['dateTimeAsUS', 1700000000000, null, '11/14/2023 10:13:20 pm'],
    ['dateTimeFromNow', NOW - 5 * 60000, null, '5 minutes ago'],
    ['dateTimeFromNow', NOW + 3 * 3600000, null, 'in 3 hours'],
    ['time:YYYY/MM/DD', 0, null, '1970/01/01'],
    ['prefix:£', 12, null, '£12'],
    ['suffix:apples', 3, null, '3 apples'],
    ['si:mF', 1500, null, '1.50 F'],
    ['count:things', 2000, null, '2K things'],
    ['currency:zł', 5, null, 'zł5'],
    ['currency:financial:€', 1234.56, null, '€1,234.6'],
    ['bool:up/down', 1, null, 'up'],
    ['requests', 3, null, '3 requests'],
    ['short', null, null, ''],
    ['short', Number.POSITIVE_INFINITY, null, '∞'],
  ];
  for (const [unit, value, decimals, want] of cases) {
    it(`${unit}(${value}, ${decimals}) = ${want}`, () => {
      expect(fmt(unit, value, decimals)).toBe(want);
    });
  }

  it('toFixed pads to the requested decimals and picks automatic ones', () => {
    expect(toFixed(1, 3)).toBe('1.000');
    expect(toFixed(0, null)).toBe('0');
    expect(toFixed(0.1234, null)).toBe('0.123');
    expect(toFixed(123.456, null)).toBe('123');
    expect(toFixed(1e21, null)).toBe('1e+21');
    expect(toFixed(null)).toBe('');
  });
});

// Reviewed differences from @grafana/data, each with a reason.
const KNOWN_DIFFERENCES: { unit: RegExp; values: (v: number | null) => boolean; reason: string }[] = [
  {
    unit: /^(cps|ops|reqps|rps|wps|iops|eps|mps|recps|rowsps|cpm|opm|reqpm|rpm|wpm|epm|mpm|recpm|rowspm|count:.*)$/,
    values: (v) => v !== null && !Number.isFinite(v),
    reason:
      'Grafana shows "∞undefined req/s" for NaN/±Infinity (it appends to a missing suffix); we show "∞ req/s".',
  },
];

function known(unit: string, value: number | null): boolean {
  return KNOWN_DIFFERENCES.some((k) => k.unit.test(unit) && k.values(value));
}

const CUSTOM_UNITS = [
  '',
  'prefix:$',
  'suffix:req',
  'si:kB',
  'si:ms',
  'si:µV',
  'si:xyz',
  'count:rows',
  'currency:zł',
  'currency:financial:€',
  'currency:financial:kr:suffix',
  'currency:financial:',
  'bool:up/down',
  'bool:yes',
  'time:YYYY-MM-DD',
  'time:HH:mm:ss.SSS Z',
  'time:MMM Do YY, h a [at] dddd',
  'requests',
  'foo:bar',
];

describe('units: oracle (@grafana/data getValueFormat)', () => {
  const g = loadGrafana();
  const numbers = [...edgeNumbers(), ...randomNumbers(60), ...SPECIAL_NUMBERS];
  const dateUnits = new Set(['dateTimeAsIso', 'dateTimeAsUS', 'dateTimeAsSystem', 'dateTimeFromNow']);
  const units = [...unitIds(), ...CUSTOM_UNITS];
  for (const unit of units) {
    it(`unit ${JSON.stringify(unit)}`, () => {
      const isDate = unit.startsWith('dateTime') || unit.startsWith('time:') || dateUnits.has(unit);
      const values: (number | null)[] = isDate
        ? [...timestamps(), NOW - 30000, NOW - 3600000 * 30, NOW + 86400000 * 40, Number.NaN]
        : [...numbers, null];
      const ours = getValueFormat(unit);
      const theirs = g.getValueFormat(unit);
      const mismatches: string[] = [];
      for (const v of values) {
        // Grafana's formatters never see null from the display processor; several throw on it.
        if (v === null && isDate) continue;
        for (const d of [null, 0, 1, 2, 3]) {
          let want: string;
          try {
            const t = theirs(v, d);
            want = JSON.stringify([t.prefix ?? '', t.text, t.suffix ?? '']);
          } catch (e) {
            want = `throws ${(e as Error).name}`;
          }
          let got: string;
          try {
            const o = ours(v, d);
            got = JSON.stringify([o.prefix ?? '', o.text, o.suffix ?? '']);
          } catch (e) {
            got = `throws ${(e as Error).name}`;
          }
          if (got !== want && !known(unit, v)) mismatches.push(`${v} d=${d}: ours ${got} grafana ${want}`);
        }
      }
      expect(mismatches.slice(0, 10)).toEqual([]);
    });
  }
});

describe('units: dateTime units in other time zones (oracle)', () => {
  const g = loadGrafana();
  for (const unit of ['dateTimeAsIso', 'dateTimeAsUS', 'dateTimeAsSystem', 'time:YYYY-MM-DD HH:mm Z ZZ']) {
    for (const tz of [
      'utc',
      'browser',
      '',
      'America/New_York',
      'Asia/Kolkata',
      'Europe/Berlin',
      'Nowhere/Else',
    ]) {
      it(`${unit} in ${JSON.stringify(tz)}`, () => {
        for (const v of timestamps()) {
          for (const showMs of [false, true]) {
            const want = g.formattedValueToString(g.getValueFormat(unit)(v, null, null, tz, showMs));
            expect(formattedValueToString(getValueFormat(unit)(v, null, null, tz, showMs)), `${v}`).toBe(
              want,
            );
          }
        }
      });
    }
  }
});
