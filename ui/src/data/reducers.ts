// Field reducers ("calculations": last *, mean, max, ...) with Grafana's ids,
// legacy aliases and null/NaN handling (the field's `nullValueMode`).
import type { Field } from './frame';

export const ReducerID = {
  sum: 'sum',
  max: 'max',
  min: 'min',
  logmin: 'logmin',
  mean: 'mean',
  variance: 'variance',
  stdDev: 'stdDev',
  last: 'last',
  median: 'median',
  first: 'first',
  count: 'count',
  countAll: 'countAll',
  range: 'range',
  diff: 'diff',
  diffperc: 'diffperc',
  delta: 'delta',
  step: 'step',
  firstNotNull: 'firstNotNull',
  lastNotNull: 'lastNotNull',
  changeCount: 'changeCount',
  distinctCount: 'distinctCount',
  allIsZero: 'allIsZero',
  allIsNull: 'allIsNull',
  allValues: 'allValues',
  uniqueValues: 'uniqueValues',
} as const;
export type ReducerID = (typeof ReducerID)[keyof typeof ReducerID] | `p${number}`;

/**
 * A reduction's result: usually a number or null (nothing to reduce), but
 * booleans for allIsNull/allIsZero, arrays for allValues/uniqueValues, and the
 * raw value (maybe a string) for first/last. reduceToNumber narrows it.
 */
export type ReducerValue = unknown;

/** Old dashboards' names for some reducers (Graph/Singlestat "current", "avg", "total"). */
const ALIASES: Record<string, string> = { current: 'lastNotNull', avg: 'mean', total: 'sum' };

/** Display names, as Grafana's calculation picker and legends show them. */
export const REDUCER_NAMES: Record<string, string> = {
  lastNotNull: 'Last *',
  last: 'Last',
  firstNotNull: 'First *',
  first: 'First',
  mean: 'Mean',
  median: 'Median',
  variance: 'Variance',
  stdDev: 'StdDev',
  sum: 'Total',
  count: 'Count',
  countAll: 'Count all',
  range: 'Range',
  delta: 'Delta',
  step: 'Step',
  diff: 'Difference',
  logmin: 'Min (above zero)',
  allIsZero: 'All Zeros',
  allIsNull: 'All nulls',
  changeCount: 'Change count',
  distinctCount: 'Distinct count',
  diffperc: 'Difference percent',
  allValues: 'All values',
  uniqueValues: 'All unique values',
  min: 'Min',
  max: 'Max',
};

/** What an empty field reduces to (everything else is null). */
const EMPTY_RESULT: Record<string, ReducerValue> = {
  sum: 0,
  count: 0,
  countAll: 0,
  allIsZero: false,
  allIsNull: true,
};

/** The canonical id for an id or legacy alias, or undefined when unknown. */
export function resolveReducerId(id: string): string | undefined {
  const canonical = ALIASES[id] ?? id;
  if (canonical in REDUCER_NAMES) return canonical;
  const p = /^p(\d+)$/.exec(canonical);
  return p && Number(p[1]) >= 1 && Number(p[1]) <= 99 && String(Number(p[1])) === p[1]
    ? canonical
    : undefined;
}

/** The display name of a reducer ("Last *", "95th %"). */
export function reducerName(id: string): string {
  const canonical = resolveReducerId(id) ?? id;
  const p = /^p(\d+)$/.exec(canonical);
  if (p) {
    const n = Number(p[1]);
    const th =
      n > 3 && n < 21 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
    return `${n}${th} %`;
  }
  return REDUCER_NAMES[canonical] ?? id;
}

type NullMode = { ignoreNulls: boolean; nullAsZero: boolean };

function nullMode(field: Field): NullMode {
  // Grafana's modes: 'connected' (the default) skips nulls, 'null as zero' counts them as 0,
  // 'null' counts them as values (they still add nothing to sums).
  const mode = (field.config.nullValueMode as string | undefined) ?? 'connected';
  return { ignoreNulls: mode === 'connected', nullAsZero: mode === 'null as zero' };
}

const isNum = (v: unknown): v is number => typeof v === 'number';

/** The reducers computed together in one pass over the values. */
function standardCalcs(field: Field, { ignoreNulls, nullAsZero }: NullMode): Record<string, ReducerValue> {
  const numeric = field.type === 'number' || field.type === 'time';
  let sum = 0;
  let max = -Number.MAX_VALUE;
  let min = Number.MAX_VALUE;
  let logmin = Number.MAX_VALUE;
  let first: unknown = null;
  let last: unknown = null;
  let firstNotNull: unknown = null;
  let lastNotNull: unknown = null;
  let count = 0;
  let nonNullCount = 0;
  let allIsNull = true;
  let allIsZero = true;
  let delta = 0;
  let step = Number.MAX_VALUE;
  let rising = true;
  const values = field.values;
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (i === 0) first = v;
    last = v;
    if (v == null) {
      if (ignoreNulls) continue;
      if (nullAsZero) v = 0;
    }
    count++;
    if (v == null || Number.isNaN(v)) continue;
    const isFirst = firstNotNull === null;
    if (isFirst) firstNotNull = v;
    if (numeric) {
      const n = v as number;
      sum += n || 0;
      allIsNull = false;
      nonNullCount++;
      if (!isFirst) {
        const s = n - (lastNotNull as number);
        if (step > s) step = s;
        // Delta sums the increases and treats a drop as a counter reset (the drop is not subtracted).
        if ((lastNotNull as number) > n) rising = false;
        else {
          if (rising) delta += s;
          rising = true;
        }
      }
      if (n > max) max = n;
      if (n < min) min = n;
      if (n < logmin && n > 0) logmin = n;
    }
    if (v !== 0) allIsZero = false;
    lastNotNull = v;
  }
  const maxOut = max === -Number.MAX_VALUE ? null : max;
  const minOut = min === Number.MAX_VALUE ? null : min;
  const diff = isNum(firstNotNull) && isNum(lastNotNull) ? lastNotNull - firstNotNull : null;
  return {
    sum,
    max: maxOut,
    min: minOut,
    // An all-negative field keeps logmin at Number.MAX_VALUE, as Grafana does.
    logmin,
    mean: nonNullCount > 0 ? sum / nonNullCount : null,
    last,
    first,
    lastNotNull,
    firstNotNull,
    count,
    nonNullCount,
    allIsNull,
    allIsZero: allIsNull ? false : allIsZero,
    range: maxOut !== null && minOut !== null ? maxOut - minOut : null,
    diff,
    delta,
    step: step === Number.MAX_VALUE ? null : step,
    diffperc: isNum(firstNotNull) && isNum(diff) ? (diff / firstNotNull) * 100 : 0,
  };
}

function withNulls(values: unknown[], { ignoreNulls, nullAsZero }: NullMode, strict: boolean): unknown[] {
  const out: unknown[] = [];
  for (const raw of values) {
    let v = raw;
    // Some of Grafana's reducers test `=== null` (undefined counts as a value), others `== null`.
    if (strict ? v === null : v == null) {
      if (ignoreNulls) continue;
      if (nullAsZero) v = 0;
    }
    out.push(v);
  }
  return out;
}

/** Reducers with their own implementation (used when asked for alone, or not covered by the standard pass). */
const SPECIAL: Record<string, (field: Field, mode: NullMode) => Record<string, ReducerValue>> = {
  lastNotNull: (f) => {
    for (let i = f.values.length - 1; i >= 0; i--) {
      const v = f.values[i];
      if (v != null && !Number.isNaN(v)) return { lastNotNull: v };
    }
    return { lastNotNull: null };
  },
  last: (f) => ({ last: f.values[f.values.length - 1] }),
  firstNotNull: (f) => {
    for (const v of f.values) if (v != null && !Number.isNaN(v)) return { firstNotNull: v };
    return { firstNotNull: null };
  },
  first: (f) => ({ first: f.values[0] }),
  median: (f, mode) => {
    const nums = withNulls(f.values, mode, false) as number[];
    nums.sort((a, b) => a - b);
    const mid = Math.floor(nums.length / 2);
    return { median: nums.length % 2 === 0 ? (nums[mid - 1] + nums[mid]) / 2 : nums[mid] };
  },
  variance: (f) => spread(f),
  stdDev: (f) => spread(f),
  countAll: (f) => ({ countAll: f.values.length }),
  changeCount: (f, mode) => {
    let changes = 0;
    let prev: unknown;
    let started = false;
    for (const v of withNulls(f.values, mode, true)) {
      if (started && prev !== v) changes++;
      started = true;
      prev = v;
    }
    return { changeCount: changes };
  },
  distinctCount: (f, mode) => ({ distinctCount: new Set(withNulls(f.values, mode, true)).size }),
  allValues: (f) => ({ allValues: [...f.values] }),
  uniqueValues: (f) => ({ uniqueValues: [...new Set(f.values)] }),
};

/** Population variance and standard deviation (Welford's running mean), nulls skipped. */
function spread(field: Field): Record<string, ReducerValue> {
  if (field.type !== 'number' && field.type !== 'time') return { variance: 0, stdDev: 0 };
  let squares = 0;
  let mean = 0;
  let n = 0;
  for (const raw of field.values) {
    if (raw == null) continue;
    const v = raw as number;
    n++;
    const before = mean;
    mean += (v - before) / n;
    squares += (v - before) * (v - mean);
  }
  if (n === 0) return { variance: 0, stdDev: 0 };
  const variance = squares / n;
  return { variance, stdDev: Math.sqrt(variance) };
}

/** The nearest-rank percentile (rounding the rank) of the values, nulls per the null mode. */
function percentile(field: Field, id: string, mode: NullMode): Record<string, ReducerValue> {
  const p = Number(id.slice(1)) / 100;
  let data = field.values;
  if (mode.ignoreNulls) data = data.filter((v) => v !== null);
  if (mode.nullAsZero) data = data.map((v) => (v === null ? 0 : v));
  const sorted = (data.slice() as number[]).sort((a, b) => a - b);
  return { [id]: sorted[Math.round((sorted.length - 1) * p)] };
}

function runSpecial(field: Field, id: string, mode: NullMode): Record<string, ReducerValue> | undefined {
  if (/^p\d+$/.test(id)) return percentile(field, id, mode);
  return SPECIAL[id]?.(field, mode);
}

/**
 * Reduces a field with the given reducer ids (aliases accepted; unknown ids
 * ignored). The result is keyed by canonical id; when several reducers are
 * asked for, it also holds every standard calculation, as Grafana's does.
 */
export function reduceField(field: Field, ids: string[]): Record<string, ReducerValue> {
  const queue = [...new Set(ids.map(resolveReducerId).filter((id): id is string => id !== undefined))];
  if (queue.length === 0) return {};
  if (field.values.length < 1) {
    const out: Record<string, ReducerValue> = {};
    for (const id of queue) out[id] = id in EMPTY_RESULT ? EMPTY_RESULT[id] : null;
    return out;
  }
  const mode = nullMode(field);
  if (queue.length === 1) {
    const alone = runSpecial(field, queue[0], mode);
    if (alone) return alone;
  }
  let out = standardCalcs(field, mode);
  for (const id of queue) {
    if (!(id in out)) out = { ...out, ...runSpecial(field, id, mode) };
  }
  return out;
}

/** One reducer's numeric result (booleans as 0/1), or null when it has none. */
export function reduceToNumber(field: Field, id: string): number | null {
  const canonical = resolveReducerId(id);
  if (!canonical) return null;
  const v = reduceField(field, [canonical])[canonical];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}
