// Browser tests of vigil's own dashboard and Explore against a running
// stack fed with data: log in, every panel shows data, the logs panels list
// lines, the time range and rows drive the queries, Explore runs PromQL and
// LogQL, and no script logs an error. Screenshots go to artifacts/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  launch,
  login,
  panelParts,
  panelStates,
  partSelector,
  SETTLE_MS,
  sameQuery,
  scrollThrough,
  unexpectedErrors,
  waitPanelsSettled,
  waitUntil,
  watchQueries,
} from './browser.mjs';
import { LOKI_UID, ownDashboardsDir, PROMETHEUS_UID, startStack } from './stack.mjs';

const DASHBOARD = JSON.parse(readFileSync(join(ownDashboardsDir, 'fast-api-metrics.json'), 'utf8'));
const UID = DASHBOARD.uid;
/** The dashboard's panels (rows excluded), as the test expects to find them. */
const PANELS = DASHBOARD.panels.filter((p) => p.type !== 'row');
const LOGS_ROW = DASHBOARD.panels.find((p) => p.type === 'row' && p.title === 'Logs');
/** The panels of the Logs row: those below it in the grid. */
const LOGS_ROW_PANELS = PANELS.filter((p) => p.gridPos.y > LOGS_ROW.gridPos.y);

describe('vigil dashboard in Chromium', { concurrency: false }, () => {
  let stack;
  let browser;
  let page;

  before(async () => {
    stack = await startStack();
    browser = await launch({ prefix: 'dashboard' });
    page = browser.page;
  });

  // The page as each step left it (the steps' own shots show the way there).
  afterEach(async (t) => {
    await browser?.shot(`end-${t.name.slice(0, 40)}`);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('an unauthenticated visit goes to the login page', async () => {
    await page.goto(`${stack.grafanaUrl}/d/${UID}`);
    await page.getByTestId('login-user').waitFor();
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await browser.shot('login-page');
  });

  test('logs in as admin/admin and skips the new-password prompt', async () => {
    await login(page, stack.grafanaUrl);
    await browser.shot('logged-in');
    const user = await page.evaluate(async () => (await fetch('/api/user')).json());
    assert.equal(user.login, 'admin');
  });

  test('the dashboard browser finds vigil dashboard in its folder', async () => {
    await page.goto(`${stack.grafanaUrl}/dashboards`);
    const folder = page.locator('[data-testid="folder"]', { hasText: 'Fast API Metrics' });
    await folder.first().waitFor();
    await browser.shot('dashboard-browser');
    await page.getByTestId('search-input').fill('Fast API');
    const link = page.locator(`[data-testid="dashboard-link"][data-uid="${UID}"]`);
    await link.first().waitFor();
    await browser.shot('dashboard-search');
    assert.match((await link.first().textContent()) ?? '', /Fast API Metrics/);
  });

  test('every panel of vigil dashboard shows data', async () => {
    const queries = watchQueries(page);
    await page.goto(`${stack.grafanaUrl}/d/${UID}`);
    const states = await waitPanelsSettled(page);
    queries.stop();
    await browser.shot('dashboard');
    assert.deepEqual(
      states.map((s) => Number(s.id)).sort((a, b) => a - b),
      PANELS.map((p) => p.id).sort((a, b) => a - b),
      'one panel element per panel of the JSON',
    );
    const bad = states.filter((s) => s.state !== 'done' || s.error);
    assert.deepEqual(bad, [], 'panels without data or with an error');
    assert.equal(await page.getByTestId('panel-nodata').count(), 0);
    assert.equal(await page.getByTestId('panel-error').count(), 0);
    // The dashboard's variables were interpolated before the queries left the page; the built-ins
    // that depend on the step (`$__rate_interval`, `$__range`, `$__auto`) go as written, for the
    // server to fill with the step it runs, as Grafana's backends do.
    const exprs = queries.exprs();
    assert.ok(exprs.length > 0, 'no /api/ds/query request');
    for (const expr of exprs) assert.doesNotMatch(expr, /\$(job|handler)\b/, expr);
    assert.ok(
      exprs.some((e) => e.includes('[$__rate_interval]')),
      'the step built-ins are left for the server',
    );
    assert.ok(
      exprs.some((e) => e.includes('job=~"fastapi"')),
      'the job variable defaults to fastapi',
    );
  });

  test('the stat panels show formatted values (Server Status is UP)', async () => {
    const status = PANELS.find((p) => p.title === 'Server Status');
    const panel = (id) => page.locator(`[data-testid="panel"][data-panel-id="${id}"]`);
    const value = await panelParts(panel(status.id), 'stat-value');
    assert.equal((await value.first().textContent())?.trim(), 'UP');
    const byType = PANELS.find((p) => p.title === 'Requests by type');
    assert.equal(await (await panelParts(panel(byType.id), 'stat-value')).count(), 5);
  });

  test('the logs panels list lines', async () => {
    for (const panel of PANELS.filter((p) => p.type === 'logs')) {
      const el = page.locator(`[data-testid="panel"][data-panel-id="${panel.id}"]`);
      await el.scrollIntoViewIfNeeded();
      await el.locator(partSelector('log-row')).first().waitFor();
      const rows = await panelParts(el, 'log-row');
      assert.ok((await rows.count()) > 0, `${panel.title}: no log lines`);
      if (panel.title === 'Errors') {
        const texts = await rows.allTextContents();
        for (const t of texts.slice(0, 50)) assert.match(t, /ERROR/, `a non-error line in Errors: ${t}`);
      }
    }
    await browser.shot('logs-panels');
  });

  test('changing the time range queries again with the new range', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const queries = watchQueries(page);
    await page.getByTestId('time-picker').click();
    await browser.shot('time-picker-open');
    await page.locator('[data-testid="time-range-option"][data-from="now-1h"]').click();
    await page.waitForURL((url) => url.searchParams.get('from') === 'now-1h');
    const hour = (req) => Math.abs(Number(req.to) - Number(req.from) - 3_600_000) < 60_000;
    // Every panel in view queries the new range.
    const inView = PANELS.filter((p) => p.gridPos.y < 20);
    await waitUntil(
      page,
      () =>
        inView.every((p) =>
          p.targets.every((t) =>
            queries.requests.some((r) => hour(r) && r.queries.some((q) => sameQuery(t.expr, q.expr))),
          ),
        ),
      'the panels in view to query the last hour',
    );
    await waitPanelsSettled(page);
    queries.stop();
    await browser.shot('time-range-1h');
    // Once the new range is out, no query asks for the old one.
    const first = queries.requests.findIndex(hour);
    const stale = queries.requests.slice(first).filter((r) => !hour(r));
    assert.deepEqual(
      stale.map((r) => Number(r.to) - Number(r.from)),
      [],
      'queries with another range after the change',
    );
    assert.match((await page.getByTestId('time-picker').textContent()) ?? '', /1 hour/i);
    // The log counts go out with `$__range` over the new hour; the server fills it from the request's
    // range (crates/dashboard/tests/ds_query.rs checks that it becomes 3600s).
    assert.ok(
      queries.requests.some(
        (r) => hour(r) && r.queries.some((q) => /count_over_time\(.*\[\$__range\]/.test(q.expr)),
      ),
      'no log count over the last hour',
    );
    // The panels in view are done; those below the fold query when scrolled to (lazy loading).
    const inViewIds = new Set(inView.map((p) => String(p.id)));
    assert.deepEqual(
      (await panelStates(page)).filter((s) => inViewIds.has(String(s.id)) && s.state !== 'done'),
      [],
    );
  });

  test('collapsing a row hides its panels and stops querying them; expanding brings them back', async () => {
    const row = page.locator(`[data-testid="row"][data-row-id="${LOGS_ROW.id}"]`);
    await row.scrollIntoViewIfNeeded();
    await row.getByTestId('row-toggle').click();
    await page.waitForFunction(
      (id) =>
        document.querySelector(`[data-testid="row"][data-row-id="${id}"]`)?.getAttribute('data-collapsed') ===
        'true',
      LOGS_ROW.id,
    );
    await browser.shot('logs-row-collapsed');
    for (const p of LOGS_ROW_PANELS) {
      assert.equal(await page.locator(`[data-testid="panel"][data-panel-id="${p.id}"]`).count(), 0, p.title);
    }
    // A refresh queries the visible panels only.
    const queries = watchQueries(page);
    await page.getByTestId('refresh-button').click();
    await waitPanelsSettled(page);
    queries.stop();
    const exprs = queries.exprs();
    assert.ok(exprs.length > 0, 'the refresh sent no query');
    for (const p of LOGS_ROW_PANELS) {
      for (const t of p.targets) {
        assert.ok(!exprs.some((e) => sameQuery(t.expr, e)), `collapsed ${p.title} was queried`);
      }
    }
    // Opening the row queries its panels (their data predates the refresh)
    // and shows them with data.
    const reopen = watchQueries(page);
    await row.getByTestId('row-toggle').click();
    // Panels load when they come into view, as in Grafana.
    for (const p of LOGS_ROW_PANELS) {
      await page.locator(`[data-testid="panel"][data-panel-id="${p.id}"]`).scrollIntoViewIfNeeded();
    }
    await waitUntil(
      page,
      () =>
        LOGS_ROW_PANELS.every((p) =>
          p.targets.every((t) => reopen.exprs().some((e) => sameQuery(t.expr, e))),
        ),
      () =>
        `the Logs row's panels to be queried on expand (sent: ${[...new Set(reopen.exprs())].join(' | ')})`,
    );
    await waitPanelsSettled(page);
    reopen.stop();
    await browser.shot('logs-row-expanded');
    for (const p of LOGS_ROW_PANELS) {
      const el = page.locator(`[data-testid="panel"][data-panel-id="${p.id}"]`);
      assert.equal(await el.getAttribute('data-state'), 'done', p.title);
    }
  });

  test('Explore runs a PromQL query and shows a graph', async () => {
    await explore(page, stack.grafanaUrl, PROMETHEUS_UID, 'sum by (handler) (rate(http_requests_total[1m]))');
    await page.getByTestId('explore-graph').first().waitFor();
    await browser.shot('explore-promql');
  });

  test('Explore runs a LogQL query and shows log lines', async () => {
    await explore(page, stack.grafanaUrl, LOKI_UID, '{job="fast-api-logs", log_level="ERROR"}');
    const logs = page.getByTestId('explore-logs');
    await logs.locator(partSelector('log-row')).first().waitFor();
    const rows = await panelParts(logs, 'log-row');
    assert.ok((await rows.count()) > 0);
    await browser.shot('explore-logql');
  });

  test('no script logged an error', () => {
    assert.deepEqual(unexpectedErrors(browser.errors), []);
  });
});

/** Opens Explore, picks the datasource `uid`, fills in `query`, runs it and waits for its result. */
async function explore(page, baseUrl, uid, query) {
  await page.goto(`${baseUrl}/explore`);
  const picker = page.getByTestId('datasource-picker');
  await picker.waitFor();
  await picker.selectOption(uid);
  // Inserted as one input (typing would meet the editor's bracket closing
  // and completion); Escape closes any completion list before running.
  const editor = page.getByTestId('query-editor').first().locator('.cm-content');
  await editor.fill(query);
  await page.keyboard.press('Escape');
  const queries = watchQueries(page);
  await page.getByTestId('run-query').click();
  const outcome = page.locator(
    ['explore-graph', 'explore-table', 'explore-logs', 'explore-no-data', 'explore-error']
      .map((id) => `[data-testid="${id}"]`)
      .join(', '),
  );
  await outcome.first().waitFor({ timeout: SETTLE_MS });
  queries.stop();
  assert.ok(
    queries.exprs().includes(query),
    `the query sent was not ${query}: ${queries.exprs().join(' | ')}`,
  );
  const errors = await page.getByTestId('explore-error').allTextContents();
  assert.deepEqual(errors, [], `Explore: ${query}`);
  assert.equal(await page.getByTestId('explore-no-data').count(), 0, `Explore: no data for ${query}`);
  // The state is in the URL, so a reload shows the same query.
  assert.ok(new URL(page.url()).search.length > 1, 'Explore state not in the URL');
  await scrollThrough(page);
}
