// The browser tests' harness: starts vigil's stack from the built binary on
// free 127.0.0.1 ports with a temporary data directory, and stops it.
//
// The binary is `$VIGIL_BIN` (test.sh builds it); without it, the debug build
// under `$CARGO_TARGET_DIR` or `target/`. The data side is `vigil up` (demo
// API, traffic and log generators, metrics server, log store, log agent)
// with short intervals so that a dashboard has data within seconds. The
// dashboards side is `vigil up`'s own dashboards server when `up` carries one
// (its `--help` names a listen flag for it), otherwise `vigil grafana` with a
// provisioning folder generated here that points at the stack's ports.
import { spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root (ui/tests/browser -> ../../..). */
export const repoRoot = resolve(here, '../../..');
/** The shared fixtures folder, read at test time and never copied into the project. */
export const sharedDir = resolve(repoRoot, 'ui', process.env.VIGIL_SHARED_DIR ?? '../../shared');
/** vigil's own dashboard, as `vigil up` provisions it. */
export const ownDashboardsDir = join(repoRoot, 'config/grafana/dashboards');

/** The datasources every generated provisioning folder declares (the uids vigil's dashboard uses). */
export const PROMETHEUS_UID = 'prometheus-datasource';
export const LOKI_UID = 'loki-datasource';

/** The vigil binary the tests run. */
export function vigilBin() {
  if (process.env.VIGIL_BIN) return resolve(process.env.VIGIL_BIN);
  const target = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');
  for (const profile of ['release', 'debug']) {
    const bin = join(target, profile, 'vigil');
    if (existsSync(bin)) return bin;
  }
  throw new Error('no vigil binary: set VIGIL_BIN or run `cargo build -p vigil` first');
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** A fresh temporary directory; removed by `stop()` of whoever made it unless VIGIL_KEEP_TMP is set. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
}

function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

/**
 * Starts `bin args`, its output going to `logFile`. Returns a handle whose
 * `stop()` sends SIGTERM, then SIGKILL after a grace period, and waits for
 * the exit. A process that exits on its own before `stop()` makes `exited`
 * resolve, which `waitReady` reports with the log's tail.
 */
export function startProcess(name, bin, args, { logFile, env = {}, cwd } = {}) {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, {
    cwd,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exitCode = null;
  const exited = new Promise((ok) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      ok(exitCode);
    });
    child.on('error', (err) => {
      exitCode = String(err);
      ok(exitCode);
    });
  });
  return {
    name,
    child,
    logFile,
    exited,
    get exitCode() {
      return exitCode;
    },
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
    async stop() {
      if (exitCode !== null) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      out.end();
      return code;
    },
  };
}

/** Polls `url` until it answers 2xx; fails with the process log's tail when the process dies or time runs out. */
export async function waitReady(proc, url, { timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`${proc.name} exited (${proc.exitCode}) before ${url} was ready:\n${tail(proc.log())}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  throw new Error(`${proc.name}: ${url} not ready after ${timeoutMs} ms (${last}):\n${tail(proc.log())}`);
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

/** Whether `vigil up` carries the dashboards server, and the name of its listen flag. */
export function upDashboardsFlag(bin = vigilBin()) {
  const help = spawnSync(bin, ['up', '--help'], { encoding: 'utf8' });
  const match = /--(grafana|dashboards?)[a-z-]*?-(listen|addr)\b/.exec(help.stdout ?? '');
  return match ? match[0] : null;
}

/**
 * Writes a Grafana provisioning folder into `dir`: datasources `Prometheus`
 * and `Loki` with vigil's uids, and one dashboard provider per entry of
 * `providers` ({name, folder, path}).
 */
export function writeProvisioning(dir, { prometheusUrl, lokiUrl, providers, timeInterval }) {
  mkdirSync(join(dir, 'datasources'), { recursive: true });
  mkdirSync(join(dir, 'dashboards'), { recursive: true });
  const ds = [
    'apiVersion: 1',
    'datasources:',
    '  - name: Prometheus',
    '    type: prometheus',
    '    access: proxy',
    `    uid: ${PROMETHEUS_UID}`,
    `    url: ${prometheusUrl}`,
    '    isDefault: true',
    ...(timeInterval ? ['    jsonData:', `      timeInterval: ${timeInterval}`] : []),
  ];
  if (lokiUrl) {
    ds.push(
      '  - name: Loki',
      '    type: loki',
      '    access: proxy',
      `    uid: ${LOKI_UID}`,
      `    url: ${lokiUrl}`,
    );
  }
  writeFileSync(join(dir, 'datasources', 'datasources.yml'), `${ds.join('\n')}\n`);
  const lines = ['apiVersion: 1', 'providers:'];
  for (const p of providers) {
    lines.push(
      `  - name: ${JSON.stringify(p.name)}`,
      '    orgId: 1',
      `    folder: ${JSON.stringify(p.folder)}`,
      '    type: file',
      '    updateIntervalSeconds: 10',
      '    options:',
      `      path: ${JSON.stringify(p.path)}`,
    );
  }
  writeFileSync(join(dir, 'dashboards', 'dashboards.yml'), `${lines.join('\n')}\n`);
}

/**
 * Starts `vigil grafana` on a free port with `provisioning` and a data dir
 * under `root`. Returns {url, proc}.
 */
export async function startGrafana(root, provisioning, { bin = vigilBin(), env = {} } = {}) {
  const port = await freePort();
  const proc = startProcess(
    'vigil grafana',
    bin,
    [
      'grafana',
      '--provisioning',
      provisioning,
      '--http-addr',
      `127.0.0.1:${port}`,
      '--data',
      join(root, 'grafana'),
    ],
    { logFile: join(root, 'grafana.log'), env },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/api/health`);
  return { url, proc };
}

/**
 * Starts the whole stack and feeds it for `feedSeconds` (default
 * $VIGIL_E2E_FEED_SECONDS or 25) then until it has data (unless `feed` is
 * false). `providers` ({name, folder, path}[]) replaces vigil's own
 * dashboard provider and always means a separate `vigil grafana`;
 * `grafana: false` starts no dashboards server. Returns {root, grafanaUrl,
 * prometheusUrl, lokiUrl, demoUrl, stop()}.
 */
export async function startStack({
  feedSeconds = Number(process.env.VIGIL_E2E_FEED_SECONDS ?? 25),
  feed: feedData = true,
  providers,
  grafana = true,
} = {}) {
  const bin = vigilBin();
  const root = tempDir('e2e');
  const [demo, prometheus, loki, agent] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const upArgs = [
    'up',
    '--data-dir',
    join(root, 'data'),
    '--demo-listen',
    `127.0.0.1:${demo}`,
    '--max-delay',
    '300ms',
    '--loadgen-clients',
    '8',
    '--loadgen-interval',
    '1s',
    '--loggen-interval',
    '200ms',
    '--prometheus-listen',
    `127.0.0.1:${prometheus}`,
    '--scrape-interval',
    '2s',
    '--loki-listen',
    `127.0.0.1:${loki}`,
    '--agent-listen',
    `127.0.0.1:${agent}`,
  ];
  const flag = providers || !grafana ? null : upDashboardsFlag(bin);
  let grafanaPort = 0;
  if (flag) {
    grafanaPort = await freePort();
    upArgs.push(flag, `127.0.0.1:${grafanaPort}`);
  }
  const procs = [];
  const stop = async () => {
    const codes = [];
    for (const p of procs.reverse()) codes.push(await p.stop());
    if (!process.env.VIGIL_KEEP_TMP) rmSync(root, { recursive: true, force: true });
    return codes;
  };
  try {
    const up = startProcess('vigil up', bin, upArgs, { logFile: join(root, 'up.log') });
    procs.push(up);
    const prometheusUrl = `http://127.0.0.1:${prometheus}`;
    const lokiUrl = `http://127.0.0.1:${loki}`;
    await waitReady(up, `${prometheusUrl}/-/ready`);
    await waitReady(up, `${lokiUrl}/ready`);
    let grafanaUrl;
    if (flag) {
      grafanaUrl = `http://127.0.0.1:${grafanaPort}`;
      await waitReady(up, `${grafanaUrl}/api/health`);
    } else if (grafana) {
      const provisioning = join(root, 'provisioning');
      writeProvisioning(provisioning, {
        prometheusUrl,
        lokiUrl,
        timeInterval: '2s',
        providers: providers ?? [
          { name: 'Fast API Metrics', folder: 'Fast API Metrics', path: ownDashboardsDir },
        ],
      });
      const grafana = await startGrafana(root, provisioning, { bin });
      procs.push(grafana.proc);
      grafanaUrl = grafana.url;
    }
    if (feedData) await feed({ prometheusUrl, lokiUrl, seconds: feedSeconds });
    return { root, grafanaUrl, prometheusUrl, lokiUrl, demoUrl: `http://127.0.0.1:${demo}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Waits `seconds`, then until the metrics server has a few scrapes of the
 * demo API's request counter and the log store has ERROR lines, so that a
 * slow machine still has data on every panel.
 */
async function feed({ prometheusUrl, lokiUrl, seconds }) {
  await sleep(seconds * 1000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const metrics = await countResult(
      `${prometheusUrl}/api/v1/query?query=${encodeURIComponent('count_over_time(http_requests_total[5m])')}`,
    );
    const logs = await countResult(
      `${lokiUrl}/loki/api/v1/query?query=${encodeURIComponent('sum(count_over_time({job="fast-api-logs", log_level="ERROR"}[10m]))')}`,
    );
    if (metrics > 0 && logs > 0) return;
    if (Date.now() > deadline)
      throw new Error(`no data after feeding the stack (metrics ${metrics}, logs ${logs})`);
    await sleep(1000);
  }
}

async function countResult(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return 0;
    const body = await res.json();
    return Array.isArray(body?.data?.result) ? body.data.result.length : 0;
  } catch {
    return 0;
  }
}
