// The browser tests' Chromium: Debian's /usr/bin/chromium driven by
// playwright-core, a fresh profile per launch, console errors collected,
// screenshots saved under artifacts/, and the UI steps every test shares
// (log in, open a dashboard, wait for its panels). Selectors are the
// data-testid names of SELECTORS.md.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir } from './stack.mjs';

export const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a whole dashboard may take to settle on a loaded CI machine (not a speed test: see bench/ui.sh). */
export const SETTLE_MS = 60_000;

/**
 * Launches Chromium with a fresh user-data-dir. Returns {context, page,
 * errors, shot(name), close()}: `errors` collects console errors and page
 * errors (uncaught exceptions) of every page of the context.
 */
export async function launch({ viewport = { width: 1600, height: 1000 }, prefix = 'run' } = {}) {
  const profile = tempDir('chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
  });
  const errors = [];
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location()?.url ?? ''})`);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.stack ?? err.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(ARTIFACTS, { recursive: true });
  let n = 0;
  return {
    context,
    page,
    errors,
    /** Saves a full-page screenshot as artifacts/<prefix>-NN-<name>.png. */
    async shot(name) {
      n += 1;
      const file = join(
        ARTIFACTS,
        `${prefix}-${String(n).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '_')}.png`,
      );
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Logs in through the login page as admin/admin and skips the prompt to
 * change the default password.
 */
export async function login(page, baseUrl, { user = 'admin', password = 'admin' } = {}) {
  await page.goto(`${baseUrl}/login`);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  // The prompt appears for the default password only: wait for it or for
  // leaving the login page, whichever comes first.
  const skip = page.getByTestId('login-skip');
  await page.waitForFunction(
    () =>
      !location.pathname.startsWith('/login') ||
      document.querySelector('[data-testid="login-skip"]') !== null,
    null,
    { timeout: 20_000 },
  );
  if (await skip.isVisible()) await skip.click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 20_000 });
  await page.getByTestId('app-ready').first().waitFor({ timeout: 20_000 });
}

/** The panels' {id, type, title, state, hasError} as the page shows them now. */
export async function panelStates(page) {
  return page.$$eval('[data-testid="panel"]', (els) =>
    els.map((el) => ({
      id: el.getAttribute('data-panel-id'),
      type: el.getAttribute('data-panel-type'),
      title: el.querySelector('[data-testid="panel-title"]')?.textContent?.trim() ?? '',
      state: el.getAttribute('data-state'),
      error:
        el.querySelector('[data-testid="panel-error"]')?.getAttribute('title') ||
        el.querySelector('[data-testid="panel-error"]')?.textContent?.trim() ||
        null,
    })),
  );
}

const FINAL = new Set(['done', 'nodata', 'error']);

/**
 * Waits until the dashboard shows at least one panel and every panel's
 * data-state is final, scrolling through the page first so that panels
 * rendered lazily below the fold load too. Returns panelStates().
 */
export async function waitPanelsSettled(page, { timeoutMs = SETTLE_MS } = {}) {
  await page.getByTestId('dashboard').first().waitFor({ timeout: timeoutMs });
  await page.locator('[data-testid="panel"]').first().waitFor({ timeout: timeoutMs });
  await scrollThrough(page);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await panelStates(page);
    if (states.length > 0 && states.every((s) => FINAL.has(s.state ?? ''))) return states;
    if (Date.now() > deadline) {
      const pending = states
        .filter((s) => !FINAL.has(s.state ?? ''))
        .map((s) => `${s.id} ${s.title}: ${s.state}`);
      throw new Error(`panels not settled after ${timeoutMs} ms: ${pending.join('; ')}`);
    }
    await page.waitForTimeout(250);
  }
}

/** Scrolls to the bottom in steps and back to the top. */
export async function scrollThrough(page) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const step = await page.evaluate(() => window.innerHeight);
  for (let y = 0; y < height; y += step) {
    await page.evaluate((top) => window.scrollTo(0, top), y);
    await page.waitForTimeout(100);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

/**
 * Records the `/api/ds/query` requests the page makes from now on: returns
 * {requests, stop()}, each request as its parsed JSON body.
 */
export function watchQueries(page) {
  const requests = [];
  const onRequest = (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/ds/query') {
      try {
        requests.push(JSON.parse(req.postData() ?? '{}'));
      } catch {
        requests.push({});
      }
    }
  };
  page.on('request', onRequest);
  return {
    requests,
    /** Every query expression sent so far. */
    exprs() {
      return requests.flatMap((r) => (Array.isArray(r.queries) ? r.queries.map((q) => q.expr ?? '') : []));
    },
    stop() {
      page.off('request', onRequest);
    },
  };
}

/**
 * Console errors the tests accept: none, except a failed resource load whose
 * status the test expects (a panel error answered 4xx by /api/ds/query is
 * shown in the panel's corner, and Chromium logs the status line itself),
 * and Chromium's own request for /favicon.ico, which no page asked for.
 */
export function unexpectedErrors(errors, { allowHttpStatus = [] } = {}) {
  return errors.filter((e) => {
    if (/Failed to load resource: .*\/favicon\.ico\)$/.test(e)) return false;
    const m = /Failed to load resource: the server responded with a status of (\d+)/.exec(e);
    return !(m && allowHttpStatus.includes(Number(m[1])));
  });
}

/**
 * The panels' own class for the body parts SELECTORS.md names, used only
 * while a panel does not carry the testid yet (the panels were merged
 * before the names were agreed).
 */
const PART_FALLBACK = { 'stat-value': '.panel-stat-number', 'log-row': '.panel-logs-row' };

/** Either selector of a body part, for waiting. */
export function partSelector(testid) {
  const fallback = PART_FALLBACK[testid];
  return fallback ? `[data-testid="${testid}"], ${fallback}` : `[data-testid="${testid}"]`;
}

/** A panel body's parts by testid, else by the panel's own class. */
export async function panelParts(scope, testid) {
  const byId = scope.locator(`[data-testid="${testid}"]`);
  if ((await byId.count()) > 0 || !PART_FALLBACK[testid]) return byId;
  return scope.locator(PART_FALLBACK[testid]);
}

/**
 * Whether `sent` (an expression as it left the page, variables
 * interpolated) is the dashboard JSON's `raw` expression: each `$name`,
 * `${name...}` or `[[name]]` of `raw` stands for any text.
 */
export function sameQuery(raw, sent) {
  const parts = raw.split(/\$\{[^}]+\}|\[\[[^\]]+\]\]|\$[A-Za-z_][A-Za-z0-9_]*/);
  const pattern = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+?');
  return new RegExp(`^${pattern}$`, 's').test(sent);
}

/** Polls `check` until it returns true; fails with `what` (a string or a function giving one) after `timeoutMs`. */
export async function waitUntil(page, check, what, { timeoutMs = SETTLE_MS } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await page.waitForTimeout(100);
  }
}
