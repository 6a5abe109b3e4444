// Browser tests of real-world Grafana dashboards (../shared/fixtures/dashboards):
// each one, provisioned as Grafana would provision it, loads and renders
// every panel (collapsed rows opened) without a script error. Panels may
// show "No data" where the demo stack lacks their metrics.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, login, panelStates, unexpectedErrors, waitPanelsSettled } from './browser.mjs';
import { LOKI_UID, PROMETHEUS_UID, sharedDir, startStack, tempDir } from './stack.mjs';

const FIXTURES = join(sharedDir, 'fixtures/dashboards');
const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

/**
 * The fixture with its datasources renamed to ours: a `{type, uid}` whose uid
 * is neither a variable nor one of ours (the kludex dashboard names its
 * author's datasource uids) gets our datasource of that type, as a user
 * importing it would pick. Variables (`$datasource`, `${DS_...}`) and
 * string names are left for the migration to resolve.
 */
function renameDatasources(node) {
  if (Array.isArray(node)) return node.map(renameDatasources);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = renameDatasources(v);
  const ds = out.datasource;
  if (ds && typeof ds === 'object' && typeof ds.uid === 'string' && !ds.uid.includes('$')) {
    if (ds.type === 'prometheus' && ds.uid !== PROMETHEUS_UID)
      out.datasource = { ...ds, uid: PROMETHEUS_UID };
    if (ds.type === 'loki' && ds.uid !== LOKI_UID) out.datasource = { ...ds, uid: LOKI_UID };
  }
  return out;
}

/**
 * Every panel of a dashboard JSON, rows excluded: top-level, inside
 * collapsed rows, and legacy `rows[].panels`; saved copies of repeated
 * panels (`repeatPanelId`) are not panels of their own (the migration drops
 * them, as Grafana does).
 */
function allPanels(dash) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      if (p.type === 'row') walk(p.panels);
      else if (p.repeatPanelId == null) out.push(p);
    }
  };
  walk(dash.panels);
  for (const row of dash.rows ?? []) walk(row.panels);
  return out;
}

describe('fixture dashboards in Chromium', { concurrency: false }, () => {
  let stack;
  let browser;
  const dir = tempDir('fixtures');
  const dashboards = join(dir, 'dashboards');
  mkdirSync(dashboards, { recursive: true });
  for (const f of files) {
    const json = renameDatasources(JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')));
    writeFileSync(join(dashboards, f), JSON.stringify(json));
  }

  before(async () => {
    stack = await startStack({
      feedSeconds: 5,
      providers: [{ name: 'Fixtures', folder: 'Services', path: dashboards }],
    });
    browser = await launch({ prefix: 'fixtures' });
    await login(browser.page, stack.grafanaUrl);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (!process.env.VIGIL_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  });

  for (const f of files) {
    test(f, async (t) => {
      const dash = JSON.parse(readFileSync(join(dashboards, f), 'utf8'));
      const { page } = browser;
      const before = browser.errors.length;
      await page.goto(`${stack.grafanaUrl}/d/${dash.uid}`);
      await waitPanelsSettled(page);
      // Open every collapsed row so that every panel renders.
      const collapsed = page.locator('[data-testid="row"][data-collapsed="true"] [data-testid="row-toggle"]');
      for (
        let left = await page.getByTestId('row').count();
        left > 0 && (await collapsed.count()) > 0;
        left--
      ) {
        await collapsed.first().click();
      }
      assert.equal(await collapsed.count(), 0, 'a row did not expand');
      const states = await waitPanelsSettled(page);
      await browser.shot(f.replace(/\.json$/, ''));
      const expected = allPanels(dash).length;
      assert.equal(states.length, expected, `${states.length} panels rendered of ${expected}`);
      const byState = {};
      for (const s of states) byState[s.state] = (byState[s.state] ?? 0) + 1;
      t.diagnostic(`${f}: ${JSON.stringify(byState)}`);
      for (const s of states.filter((x) => x.state === 'error'))
        t.diagnostic(`  error in ${s.title}: ${s.error}`);
      // Query errors show in their panel's corner; Chromium logs the failed
      // request's status, which is no script error.
      assert.deepEqual(
        unexpectedErrors(browser.errors.slice(before), { allowHttpStatus: [400, 422, 500, 503] }),
        [],
      );
      const placeholders = await page
        .getByTestId('panel-placeholder')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
      if (placeholders.length) t.diagnostic(`  placeholders: ${placeholders.join(', ')}`);
      assert.ok((await panelStates(page)).length > 0);
    });
  }
});
