// Measures the time from navigation to every panel painted for vigil's
// dashboard over HOURS of backfilled data, in Chromium, cold cache each run.
// bench/ui.sh runs it; alone:
//
//   node bench/paint.mjs --bin target/release/vigil [--runs 7] [--hours 6]
//
// The stack is the metrics server (remote-write receiver on, nothing
// scraped), the log store and the dashboards server, on free 127.0.0.1
// ports; bench/backfill.mjs fills it. "Painted" is the UI's own
// `vigil:panels-painted` performance mark when it sets one, else the first
// animation frame after every panel's data-state became final, as a
// MutationObserver injected before the page's scripts sees it. Times are
// from the navigation's start (performance.timeOrigin). Prints a JSON
// report with the medians.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from '../ui/tests/browser/browser.mjs';
import {
  freePort,
  ownDashboardsDir,
  repoRoot,
  startGrafana,
  startProcess,
  tempDir,
  waitReady,
  writeProvisioning,
} from '../ui/tests/browser/stack.mjs';

const { values } = parseArgs({
  options: {
    bin: { type: 'string' },
    runs: { type: 'string', default: '7' },
    hours: { type: 'string', default: '6' },
    width: { type: 'string', default: '1920' },
  },
});
const bin = resolve(values.bin ?? join(repoRoot, 'target/release/vigil'));
const RUNS = Number(values.runs);
const DASHBOARD = JSON.parse(readFileSync(join(ownDashboardsDir, 'fast-api-metrics.json'), 'utf8'));
const EXPECTED = DASHBOARD.panels.filter((p) => p.type !== 'row').length;
// Tall enough that every panel is in view: no panel waits for a scroll.
const HEIGHT = Math.max(...DASHBOARD.panels.map((p) => (p.gridPos.y + p.gridPos.h) * 38)) + 400;

const root = tempDir('bench-ui');
const procs = [];
async function stopAll() {
  for (const p of procs.reverse()) await p.stop();
  rmSync(root, { recursive: true, force: true });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Injected before the page's scripts: marks the frame after every panel's state is final. */
function observer(expected) {
  const FINAL = new Set(['done', 'nodata', 'error']);
  let marked = false;
  const check = () => {
    if (marked) return;
    const panels = document.querySelectorAll('[data-testid="panel"]');
    if (panels.length < expected) return;
    for (const p of panels) if (!FINAL.has(p.getAttribute('data-state') ?? '')) return;
    marked = true;
    const states = [...panels].map((p) => p.getAttribute('data-state'));
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        performance.mark('vigil:bench-panels-final', { detail: states });
      }),
    );
  };
  new MutationObserver(check).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-state'],
  });
}

try {
  // The stack.
  const [promPort, lokiPort] = await Promise.all([freePort(), freePort()]);
  const promYml = join(root, 'prometheus.yml');
  writeFileSync(promYml, 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const prom = startProcess(
    'vigil prometheus',
    bin,
    [
      'prometheus',
      `--config.file=${promYml}`,
      `--storage.tsdb.path=${join(root, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--web.enable-remote-write-receiver',
    ],
    { logFile: join(root, 'prometheus.log'), cwd: root },
  );
  procs.push(prom);
  const loki = startProcess(
    'vigil loki',
    bin,
    [
      'loki',
      `--config.file=${join(repoRoot, 'config/loki-config.yaml')}`,
      `--storage.path=${join(root, 'loki')}`,
      '--server.http-listen-address=127.0.0.1',
      `--server.http-listen-port=${lokiPort}`,
    ],
    { logFile: join(root, 'loki.log'), cwd: root },
  );
  procs.push(loki);
  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  const lokiUrl = `http://127.0.0.1:${lokiPort}`;
  await waitReady(prom, `${prometheusUrl}/-/ready`);
  await waitReady(loki, `${lokiUrl}/ready`);

  const fill = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bench/backfill.mjs'),
      '--prometheus',
      prometheusUrl,
      '--loki',
      lokiUrl,
      '--hours',
      values.hours,
    ],
    { encoding: 'utf8' },
  );
  if (fill.status !== 0) throw new Error(`backfill failed: ${fill.stderr}`);
  const backfill = JSON.parse(fill.stdout.trim().split('\n').pop());

  const provisioning = join(root, 'provisioning');
  writeProvisioning(provisioning, {
    prometheusUrl,
    lokiUrl,
    providers: [{ name: 'Fast API Metrics', folder: 'Fast API Metrics', path: ownDashboardsDir }],
  });
  const grafana = await startGrafana(root, provisioning, { bin });
  procs.push(grafana.proc);

  const url = `${grafana.url}/d/${DASHBOARD.uid}?from=now-${values.hours}h&to=now&refresh=`;
  const runs = [];
  // One warm-up run (the servers' first queries fill their caches), then RUNS measured ones.
  for (let i = 0; i <= RUNS; i++) {
    const browser = await launch({ viewport: { width: Number(values.width), height: HEIGHT }, prefix: 'bench' });
    try {
      const { context, page } = browser;
      const login = await context.request.post(`${grafana.url}/login`, {
        data: { user: 'admin', password: 'admin' },
        headers: { Origin: grafana.url },
      });
      if (!login.ok()) throw new Error(`login: HTTP ${login.status()}`);
      await page.addInitScript(observer, EXPECTED);
      await page.goto(url);
      await page.waitForFunction(
        () =>
          performance.getEntriesByName('vigil:panels-painted').length > 0 ||
          performance.getEntriesByName('vigil:bench-panels-final').length > 0,
        null,
        { timeout: 60_000, polling: 50 },
      );
      const run = await page.evaluate(() => {
        const own = performance.getEntriesByName('vigil:panels-painted')[0];
        const ours = performance.getEntriesByName('vigil:bench-panels-final')[0];
        const nav = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        const queries = performance
          .getEntriesByType('resource')
          .filter((r) => r.name.includes('/api/ds/query'));
        return {
          panelsPainted: (own ?? ours).startTime,
          source: own ? 'vigil:panels-painted' : 'data-state observer',
          states: ours?.detail ?? null,
          firstContentfulPaint: fcp?.startTime ?? null,
          domContentLoaded: nav?.domContentLoadedEventEnd ?? null,
          queryRequests: queries.length,
          firstQueryStart: Math.min(...queries.map((r) => r.startTime)),
          lastQueryEnd: Math.max(0, ...queries.map((r) => r.responseEnd)),
          slowestQuery: Math.max(0, ...queries.map((r) => r.duration)),
          jsBytes: performance
            .getEntriesByType('resource')
            .filter((r) => r.name.endsWith('.js'))
            .reduce((n, r) => n + r.transferSize, 0),
        };
      });
      if (i === RUNS) await browser.shot(`dashboard-${values.hours}h`);
      if (i > 0) runs.push(run);
      process.stderr.write(`run ${i}${i === 0 ? ' (warm-up)' : ''}: ${run.panelsPainted.toFixed(0)} ms\n`);
    } finally {
      await browser.close();
    }
  }
  const notDone = runs.flatMap((r) => (r.states ?? []).filter((s) => s !== 'done')).length;
  console.log(
    JSON.stringify(
      {
        hours: Number(values.hours),
        panels: EXPECTED,
        backfill,
        runs: runs.length,
        viewport: `${values.width}x${HEIGHT}`,
        medianPanelsPaintedMs: Math.round(median(runs.map((r) => r.panelsPainted))),
        minPanelsPaintedMs: Math.round(Math.min(...runs.map((r) => r.panelsPainted))),
        maxPanelsPaintedMs: Math.round(Math.max(...runs.map((r) => r.panelsPainted))),
        medianFirstContentfulPaintMs: Math.round(median(runs.map((r) => r.firstContentfulPaint ?? 0))),
        medianDomContentLoadedMs: Math.round(median(runs.map((r) => r.domContentLoaded ?? 0))),
        medianSlowestQueryMs: Math.round(median(runs.map((r) => r.slowestQuery))),
        medianFirstQueryStartMs: Math.round(median(runs.map((r) => r.firstQueryStart))),
        medianLastQueryEndMs: Math.round(median(runs.map((r) => r.lastQueryEnd))),
        queryRequestsPerLoad: runs[0]?.queryRequests,
        measuredBy: runs[0]?.source,
        panelStatesNotDone: notDone,
      },
      null,
      2,
    ),
  );
} finally {
  await stopAll();
}
