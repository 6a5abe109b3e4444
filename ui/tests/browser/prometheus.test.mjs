// Browser test of the dashboards server with the real Prometheus 2.42
// (Debian's /usr/bin/prometheus) as its datasource: a provisioned dashboard
// renders panels from it. Skipped, saying why, when that binary is absent.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, login, panelParts, unexpectedErrors, waitPanelsSettled } from './browser.mjs';
import {
  freePort,
  PROMETHEUS_UID,
  startGrafana,
  startProcess,
  tempDir,
  waitReady,
  writeProvisioning,
} from './stack.mjs';

const PROMETHEUS = process.env.VIGIL_REAL_PROMETHEUS ?? '/usr/bin/prometheus';
const skip = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is absent (apt-get install prometheus)`;
if (skip) console.log(`# skipping the real-Prometheus test: ${skip}`);

const DS = { type: 'prometheus', uid: PROMETHEUS_UID };
const RATE = 'sum by (handler) (rate(prometheus_http_requests_total[30s]))';
/** A small dashboard over Prometheus's own metrics: a range query and an instant one. */
const DASHBOARD = {
  uid: 'real-prometheus',
  title: 'Real Prometheus',
  schemaVersion: 41,
  time: { from: 'now-5m', to: 'now' },
  panels: [
    {
      id: 1,
      type: 'timeseries',
      title: 'HTTP requests / s',
      datasource: DS,
      gridPos: { x: 0, y: 0, w: 16, h: 8 },
      targets: [
        {
          refId: 'A',
          datasource: DS,
          expr: RATE,
          legendFormat: '{{handler}}',
          range: true,
        },
      ],
    },
    {
      id: 2,
      type: 'stat',
      title: 'Up',
      datasource: DS,
      gridPos: { x: 16, y: 0, w: 8, h: 8 },
      fieldConfig: {
        defaults: { mappings: [{ type: 'value', options: { 1: { text: 'UP' }, 0: { text: 'DOWN' } } }] },
        overrides: [],
      },
      targets: [{ refId: 'A', datasource: DS, expr: 'up{job="prometheus"}', instant: true, range: false }],
    },
  ],
};

describe('the real Prometheus 2.42 as a datasource', { concurrency: false, skip }, () => {
  const root = tempDir('realprom');
  let prometheus;
  let grafana;
  let browser;

  before(async () => {
    const port = await freePort();
    const config = join(root, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`,
    );
    prometheus = startProcess(
      'prometheus',
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(root, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { logFile: join(root, 'prometheus.log') },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitReady(prometheus, `${url}/-/ready`);
    // Scrapes until the panel's rate() has two samples to work on.
    for (let tries = 0; ; tries++) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(RATE)}`);
      const body = await res.json();
      if (body?.data?.result?.length > 0) break;
      if (tries > 60) throw new Error(`the real Prometheus has no data for ${RATE}`);
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const dashboards = join(root, 'dashboards');
    mkdirSync(dashboards, { recursive: true });
    writeFileSync(join(dashboards, 'real-prometheus.json'), JSON.stringify(DASHBOARD));
    const provisioning = join(root, 'provisioning');
    writeProvisioning(provisioning, {
      prometheusUrl: url,
      timeInterval: '1s',
      providers: [{ name: 'Real', folder: 'Real', path: dashboards }],
    });
    grafana = await startGrafana(root, provisioning);
    browser = await launch({ prefix: 'realprom' });
    await login(browser.page, grafana.url);
  });

  after(async () => {
    await browser?.close();
    await grafana?.proc.stop();
    await prometheus?.stop();
    if (!process.env.VIGIL_KEEP_TMP) rmSync(root, { recursive: true, force: true });
  });

  test('a dashboard renders its panels from the real Prometheus', async () => {
    const { page } = browser;
    await page.goto(`${grafana.url}/d/${DASHBOARD.uid}`);
    const states = await waitPanelsSettled(page);
    await browser.shot('real-prometheus');
    assert.deepEqual(
      states.map((s) => [s.title, s.state, s.error]),
      [
        ['HTTP requests / s', 'done', null],
        ['Up', 'done', null],
      ],
    );
    const up = await panelParts(page.locator('[data-testid="panel"][data-panel-id="2"]'), 'stat-value');
    assert.equal((await up.first().textContent())?.trim(), 'UP');
    assert.deepEqual(unexpectedErrors(browser.errors), []);
  });
});
