// Backfills a metrics server and a log store with HOURS of the demo stack's
// data, ending now, so that a dashboard benchmark has hours of history in
// seconds: the demo API's metrics as `vigil up` scrapes them (every 15 s)
// through remote write, and its log lines (as the agent labels them) through
// Loki's push API, oldest first. Plain Node, no packages: the remote-write
// body is protobuf encoded here and snappy-framed as literals, which every
// snappy decoder accepts.
//
//   node bench/backfill.mjs --prometheus http://127.0.0.1:9090 --loki http://127.0.0.1:3100 [--hours 6]
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    loki: { type: 'string' },
    hours: { type: 'string', default: '6' },
    'scrape-interval': { type: 'string', default: '15' },
    'log-lines-per-second': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
  },
});
const HOURS = Number(values.hours);
const STEP_MS = Number(values['scrape-interval']) * 1000;
const LOG_RATE = Number(values['log-lines-per-second']);
const NOW = Date.now();
const START = NOW - HOURS * 3_600_000;

// A small deterministic generator (mulberry32), so runs compare.
let seed = Number(values.seed) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

// ---- metrics ----------------------------------------------------------------

const TARGET = { job: 'fastapi', instance: '127.0.0.1:8000' };
const TEST_HANDLERS = [
  ['/get_endpoint', 'GET'],
  ['/post_endpoint', 'POST'],
  ['/put_endpoint', 'PUT'],
  ['/delete_endpoint', 'DELETE'],
];
const STATUSES = ['2xx', '4xx', '5xx'];
// prometheus-fastapi-instrumentator's default buckets, which the demo API uses.
const HIGHR = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60,
];
const LOWR = [0.1, 0.5, 1];

/** The series of one scrape: name -> labels -> cumulative value, advanced by `scrape()`. */
const state = new Map();
function bump(name, labels, by) {
  const key = `${name}${JSON.stringify(labels)}`;
  const entry = state.get(key) ?? { labels: { __name__: name, ...labels, ...TARGET }, value: 0 };
  entry.value += by;
  state.set(key, entry);
}
function set(name, labels, value) {
  bump(name, labels, 0);
  state.get(`${name}${JSON.stringify(labels)}`).value = value;
}

/** One scrape interval of traffic: the load generator's rounds, the health checks and /metrics itself. */
function scrape() {
  set('up', {}, 1);
  const requests = [];
  for (let i = 0; i < Math.round(STEP_MS / 1000) * 4; i++) {
    const [handler, method] = pick(TEST_HANDLERS);
    requests.push([handler, method, pick(STATUSES), random() * 30]);
  }
  requests.push(['/health', 'GET', '2xx', 0.001], ['/metrics', 'GET', '2xx', 0.004]);
  for (const [handler, method, status, seconds] of requests) {
    bump('http_requests_total', { handler, method, status }, 1);
    bump('http_request_duration_seconds_sum', { handler, method }, seconds);
    bump('http_request_duration_seconds_count', { handler, method }, 1);
    for (const le of [...LOWR, '+Inf']) {
      bump('http_request_duration_seconds_bucket', { handler, method, le: String(le) }, le === '+Inf' || seconds <= le ? 1 : 0);
    }
    bump('http_request_duration_highr_seconds_sum', {}, seconds);
    bump('http_request_duration_highr_seconds_count', {}, 1);
    for (const le of [...HIGHR, '+Inf']) {
      bump('http_request_duration_highr_seconds_bucket', { le: String(le) }, le === '+Inf' || seconds <= le ? 1 : 0);
    }
  }
}

// Protobuf (prometheus.WriteRequest 1.0) by hand.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
function field(num, bytes) {
  return Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
}
function sample(value, ts) {
  const v = Buffer.alloc(9);
  v[0] = (1 << 3) | 1;
  v.writeDoubleLE(value, 1);
  return Buffer.concat([v, varint((2 << 3) | 0), varint(ts)]);
}
function timeseries(labels, samples) {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => field(1, Buffer.concat([field(1, Buffer.from(k)), field(2, Buffer.from(labels[k]))])));
  for (const [ts, value] of samples) parts.push(field(2, sample(value, ts)));
  return field(1, Buffer.concat(parts));
}
/** Snappy's block format with every byte a literal. */
function snappy(data) {
  const parts = [varint(data.length)];
  for (let off = 0; off < data.length; off += 65536) {
    const chunk = data.subarray(off, off + 65536);
    const n = chunk.length - 1;
    if (n < 60) parts.push(Buffer.from([n << 2]));
    else if (n < 256) parts.push(Buffer.from([60 << 2, n]));
    else parts.push(Buffer.from([61 << 2, n & 0xff, n >> 8]));
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

async function post(url, body, headers) {
  const res = await fetch(url, { method: 'POST', body, headers });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
}

/** Sends the metrics in time order, 30 minutes of every series per request. */
async function backfillMetrics(base) {
  let sent = 0;
  const batchMs = 30 * 60_000;
  for (let from = START; from < NOW; from += batchMs) {
    const batch = new Map();
    for (let t = from; t < Math.min(from + batchMs, NOW); t += STEP_MS) {
      scrape();
      for (const [key, entry] of state) {
        const list = batch.get(key) ?? { labels: entry.labels, samples: [] };
        list.samples.push([t, entry.value]);
        batch.set(key, list);
      }
    }
    const body = Buffer.concat([...batch.values()].map((s) => timeseries(s.labels, s.samples)));
    sent += [...batch.values()].reduce((n, s) => n + s.samples.length, 0);
    await post(`${base}/api/v1/write`, snappy(body), {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    });
  }
  return { series: state.size, samples: sent };
}

// ---- logs -------------------------------------------------------------------

const LEVELS = ['INFO', 'WARNING', 'ERROR'];
const MODULES = ['module_1', 'module_2', 'module_3'];
const FUNCTIONS = ['function_1', 'function_2', 'function_3'];
const BASE = { job: 'fast-api-logs', env: 'dev' };

/** One log line at `ms` as the loggen or the API writes it, with the labels the agent's pipeline gives it. */
function logLine(ms) {
  const stamp = new Date(ms).toISOString();
  const level = pick(LEVELS);
  if (random() < 0.5) {
    const module = pick(MODULES);
    const fn = pick(FUNCTIONS);
    return {
      labels: { ...BASE, source: 'loggen', log_level: level, module, function: fn },
      line: `${stamp} | ${level} | Module: ${module} | Function: ${fn}| Log message level ${level} from module ${module} at function ${fn}`,
    };
  }
  const [uri, method] = pick(TEST_HANDLERS);
  const status = pick(['200', '400', '500']);
  const lvl = status === '200' ? 'INFO' : status === '400' ? 'WARNING' : 'ERROR';
  return {
    labels: { ...BASE, source: 'api', log_level: lvl, method, uri, status },
    line: `${stamp} | ${lvl} | ${method} ${uri} | Requested by: 127.0.0.1 Status: ${status} Duration: ${Math.floor(random() * 30000)} ms`,
  };
}

/** Pushes the log lines oldest first, 10 minutes per request. */
async function backfillLogs(base) {
  let lines = 0;
  const batchMs = 10 * 60_000;
  const gap = 1000 / LOG_RATE;
  for (let from = START; from < NOW; from += batchMs) {
    const streams = new Map();
    for (let t = from; t < Math.min(from + batchMs, NOW); t += gap) {
      const { labels, line } = logLine(t);
      const key = JSON.stringify(labels);
      const s = streams.get(key) ?? { stream: labels, values: [] };
      s.values.push([`${BigInt(Math.floor(t)) * 1_000_000n}`, line]);
      streams.set(key, s);
      lines++;
    }
    await post(`${base}/loki/api/v1/push`, JSON.stringify({ streams: [...streams.values()] }), {
      'Content-Type': 'application/json',
    });
  }
  return { lines };
}

const report = { hours: HOURS };
if (values.prometheus) report.metrics = await backfillMetrics(values.prometheus);
if (values.loki) report.logs = await backfillLogs(values.loki);
console.log(JSON.stringify(report));
