// Loads Grafana's own @grafana/data (dev-only) as the oracle for the time and interval tests. Written by
// the ui-time lane because the shared tests/unit/oracle.ts was not in main yet; the two can be merged.
import { createRequire } from 'node:module';

// @grafana/data reads navigator at import time (locale detection); Node has none.
const g = globalThis as { navigator?: unknown };
if (!g.navigator) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { language: 'en-US', languages: ['en-US'], userAgent: 'node' },
    configurable: true,
  });
}

interface MomentLike {
  valueOf(): number;
  isValid(): boolean;
}

export interface GrafanaTimeOracle {
  dateMath: {
    parse(
      text: string,
      roundUp?: boolean,
      timezone?: string,
      fiscalYearStartMonth?: number,
    ): MomentLike | undefined;
    parseDateMath(math: string, time: MomentLike, roundUp?: boolean): MomentLike | undefined;
  };
  rangeUtil: {
    calculateInterval(
      range: { from: MomentLike; to: MomentLike },
      resolution: number,
      low?: string,
    ): {
      interval: string;
      intervalMs: number;
    };
    roundInterval(ms: number): number;
    secondsToHms(s: number): string;
    intervalToMs(s: string): number;
    intervalToSeconds(s: string): number;
    describeInterval(s: string): { sec: number; type: string; count: number };
    describeTimeRange(
      range: { from: unknown; to: unknown },
      timeZone?: string,
      quickRanges?: unknown[],
    ): string;
    describeTextRange(expr: string): { from: string; to: string; display: string; invalid?: boolean };
  };
  dateTime(input?: number | string): MomentLike & { format(f?: string): string; toISOString(): string };
  dateTimeParse(value: string, options?: { roundUp?: boolean; timeZone?: string }): MomentLike;
  convertOldAngularValueMappings(panel: unknown, thresholds?: unknown): unknown[];
}

const require = createRequire(import.meta.url);
export const grafana = require('@grafana/data') as GrafanaTimeOracle;

/** Deterministic pseudo-random numbers for generated cases. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
