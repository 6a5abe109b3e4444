// vigil's own dashboard against the data `vigil up` produces, without a
// browser: every panel query and variable query, with the variables at
// their defaults, returns data from the metrics server and the log store.
// It pins the dashboard to the demo API's metric names and the agent's
// labels (config/promtail-config.yaml) whatever the UI does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LOKI_UID, ownDashboardsDir, PROMETHEUS_UID, startStack } from './stack.mjs';

const DASHBOARD = JSON.parse(readFileSync(join(ownDashboardsDir, 'fast-api-metrics.json'), 'utf8'));
const PANELS = DASHBOARD.panels.filter((p) => p.type !== 'row');
const RANGE_S = 30 * 60;

/** The variables as the dashboard's defaults leave them (job fastapi, handler All -> allValue). */
function interpolate(expr) {
  return expr
    .replaceAll('$job', 'fastapi')
    .replaceAll('$handler', '.*')
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__auto', '1m')
    .replaceAll('$__range', `${RANGE_S}s`);
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = await res.json();
  assert.equal(res.status, 200, `${url}: ${JSON.stringify(body)}`);
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data;
}

describe("vigil dashboard's queries under vigil up", { concurrency: false }, () => {
  let stack;
  before(async () => {
    stack = await startStack({ grafana: false });
  });
  after(async () => {
    await stack?.stop();
  });

  test('the job variable offers fastapi, the handler variable the demo handlers', async () => {
    const [job, handler] = DASHBOARD.templating.list;
    assert.equal(job.query.query, 'label_values(up, job)');
    const jobs = await get(`${stack.prometheusUrl}/api/v1/label/job/values?match[]=up`);
    assert.ok(jobs.includes(job.current.value), `${job.current.value} not in ${jobs}`);
    assert.equal(handler.allValue, '.*');
    const handlers = await get(
      `${stack.prometheusUrl}/api/v1/label/handler/values?match[]=${encodeURIComponent('http_requests_total{job=~"fastapi"}')}`,
    );
    for (const h of ['/get_endpoint', '/post_endpoint', '/put_endpoint', '/delete_endpoint']) {
      assert.ok(handlers.includes(h), `${h} not in ${handlers}`);
    }
  });

  for (const panel of PANELS) {
    for (const target of panel.targets) {
      test(`${panel.title} (${panel.type}) ${target.refId}: ${target.expr}`, async () => {
        const expr = interpolate(target.expr);
        const end = Math.floor(Date.now() / 1000);
        const start = end - RANGE_S;
        const q = encodeURIComponent(expr);
        if (target.datasource.uid === PROMETHEUS_UID) {
          const data = target.instant
            ? await get(`${stack.prometheusUrl}/api/v1/query?query=${q}&time=${end}`)
            : await get(
                `${stack.prometheusUrl}/api/v1/query_range?query=${q}&start=${start}&end=${end}&step=5`,
              );
          assert.ok(data.result.length > 0, `no series for ${expr}`);
          const values = data.result.flatMap((s) => (s.values ?? [s.value]).map((v) => Number(v[1])));
          assert.ok(
            values.some((v) => Number.isFinite(v)),
            `no finite value for ${expr}`,
          );
          return;
        }
        assert.equal(target.datasource.uid, LOKI_UID);
        const path =
          target.queryType === 'instant'
            ? `query?query=${q}&time=${end}000000000`
            : `query_range?query=${q}&start=${start}000000000&end=${end}000000000&limit=1000&step=5`;
        const data = await get(`${stack.lokiUrl}/loki/api/v1/${path}`);
        assert.ok(data.result.length > 0, `no result for ${expr}`);
        if (data.resultType === 'streams' && /log_level="ERROR"/.test(expr)) {
          for (const s of data.result) assert.equal(s.stream.log_level, 'ERROR');
        }
      });
    }
  }

  test('the log counts filter on log_level (the reference used a label its agent never set)', () => {
    const exprs = PANELS.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.every((e) => !/\blevel="/.test(e.replaceAll('log_level', ''))));
  });

  test('the Percent of 500 panel queries 5xx (the reference queried 2xx)', () => {
    const panel = PANELS.find((p) => p.title === 'Percent of 500 Responses');
    assert.match(panel.targets[0].expr, /status="5xx"/);
  });
});
