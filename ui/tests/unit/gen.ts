// Generated inputs for oracle tests: edge numbers and seeded random floats.

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Edge values: zero, tiny/huge, powers of 10 and 1024 and their neighbours, time boundaries, specials. */
export function edgeNumbers(): number[] {
  const out = new Set<number>([0, 1, -1, 0.5, -0.5, 2.25, 2.26, 0.1, 0.3, 1.5, 7, 42, 99.99, 100, 365, 1440]);
  for (let k = -15; k <= 27; k++) {
    const p = 10 ** k;
    for (const v of [p, p * 0.999, p * 1.001, p * 2.5, p - 1, p + 1]) {
      out.add(v);
      out.add(-v);
    }
  }
  for (let k = 0; k <= 8; k++) {
    const p = 1024 ** k;
    for (const v of [p, p - 1, p * 1.5]) out.add(v);
  }
  for (const t of [60, 3600, 86400, 604800, 31536e3, 6e4, 36e5, 864e5, 31536e6, 6e10, 36e11, 864e11]) {
    for (const v of [t, t - 1, t + 1, t * 1.5]) {
      out.add(v);
      out.add(-v);
    }
  }
  out.add(Number.MIN_VALUE);
  out.add(Number.MAX_SAFE_INTEGER);
  out.add(1.7e308);
  out.add(1234567.891);
  out.add(-987654.321);
  out.add(0.000123456);
  return [...out];
}

/** Log-uniform random floats across magnitudes, both signs, plus random integers. */
export function randomNumbers(n: number, seed = 1): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const mag = Math.floor(r() * 30) - 12;
    const sign = r() < 0.2 ? -1 : 1;
    out.push(sign * r() * 10 ** mag);
    out.push(Math.floor(r() * 10 ** (1 + Math.floor(r() * 12))));
  }
  return out;
}

export const SPECIAL_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** Epoch-ms timestamps: 1970, today-ish, far past/future, fractional ms. */
export function timestamps(): number[] {
  const r = rng(7);
  const out = [
    0,
    1,
    -1,
    86399999,
    1700000000000,
    1733400000123,
    951782400000,
    4102444800000,
    -2208988800000,
    1e12 + 0.5,
  ];
  for (let i = 0; i < 40; i++) out.push(Math.floor(r() * 4e12) - 1e12);
  return out;
}
