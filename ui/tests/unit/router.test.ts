// Routes and URL state: what the pages read from and write to the address bar.
import { describe, expect, it } from 'vitest';
import {
  loginUrl,
  matchRoute,
  readDashboardUrlState,
  readExploreState,
  safeRedirect,
  slugify,
  writeDashboardUrlState,
  writeExploreState,
} from '../../src/router';

describe('matchRoute', () => {
  it.each([
    ['/', { name: 'browse' }],
    ['/dashboards', { name: 'browse' }],
    ['/dashboards/', { name: 'browse' }],
    ['/dashboards/f/abc/', { name: 'browse', folderUid: 'abc' }],
    ['/dashboards/f/abc/my-folder', { name: 'browse', folderUid: 'abc' }],
    ['/login', { name: 'login' }],
    ['/explore', { name: 'explore' }],
    ['/profile/password', { name: 'password' }],
    ['/d/abc', { name: 'dashboard', uid: 'abc', slug: undefined }],
    ['/d/abc/my-dash', { name: 'dashboard', uid: 'abc', slug: 'my-dash' }],
    ['/d/a%20b/x', { name: 'dashboard', uid: 'a b', slug: 'x' }],
    ['/nope', { name: 'notFound', path: '/nope' }],
  ])('%s', (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });
});

describe('dashboard URL state', () => {
  it('reads time, repeated variables, refresh, viewPanel and inspect', () => {
    const s = readDashboardUrlState(
      '?orgId=1&from=now-6h&to=now&var-job=a&var-job=b&var-handler=%2Fmetrics&refresh=30s&viewPanel=4&inspect=2',
    );
    expect(s).toEqual({
      from: 'now-6h',
      to: 'now',
      vars: { job: ['a', 'b'], handler: ['/metrics'] },
      refresh: '30s',
      viewPanel: '4',
      inspect: '2',
    });
  });

  it('round-trips and keeps parameters it does not own', () => {
    const state = {
      from: '1700000000000',
      to: '1700003600000',
      vars: { job: ['a', 'b c'], x: ['$__all'] },
      refresh: '1m',
      viewPanel: '12',
    };
    const search = writeDashboardUrlState(state, '?orgId=1&kiosk&var-old=1&from=x');
    expect(search).toBe(
      '?from=1700000000000&to=1700003600000&var-job=a&var-job=b+c&var-x=%24__all&refresh=1m&viewPanel=12&orgId=1&kiosk=',
    );
    expect(readDashboardUrlState(search)).toEqual(state);
  });

  it('writes nothing for an empty state', () => {
    expect(writeDashboardUrlState({ vars: {} })).toBe('');
  });

  it('keeps an empty variable value (a textbox cleared)', () => {
    expect(readDashboardUrlState(writeDashboardUrlState({ vars: { q: [''] } })).vars).toEqual({ q: [''] });
  });
});

describe('explore URL state', () => {
  const pane = {
    datasource: 'prom',
    queries: [{ refId: 'A', expr: 'sum(rate(x[1m]))', datasource: { type: 'prometheus', uid: 'prom' } }],
    range: { from: 'now-1h', to: 'now' },
  };

  it('round-trips through panes', () => {
    const search = writeExploreState(pane, '?orgId=1');
    expect(new URLSearchParams(search).get('schemaVersion')).toBe('1');
    expect(readExploreState(search)).toEqual(pane);
  });

  it('reads the older left= form', () => {
    expect(readExploreState(`?left=${encodeURIComponent(JSON.stringify(pane))}`)).toEqual(pane);
  });

  it('gives undefined for broken JSON and defaults for missing parts', () => {
    expect(readExploreState('?panes=%7Bnope')).toBeUndefined();
    expect(readExploreState('?panes=%7B%22a%22%3A%7B%7D%7D')).toEqual({
      datasource: undefined,
      queries: [],
      range: { from: 'now-1h', to: 'now' },
    });
  });
});

describe('login redirects', () => {
  it.each([
    ['/d/x/y?from=now-1h', '/d/x/y?from=now-1h'],
    [null, '/'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
  ])('safeRedirect(%s) = %s', (input, out) => {
    expect(safeRedirect(input)).toBe(out);
  });

  it('sends the current page along to the login page', () => {
    expect(loginUrl({ path: '/d/abc/x', search: '?var-a=1' })).toBe(
      '/login?redirectTo=%2Fd%2Fabc%2Fx%3Fvar-a%3D1',
    );
    expect(loginUrl({ path: '/login', search: '?redirectTo=%2Fx' })).toBe('/login?redirectTo=%2Fx');
  });
});

describe('slugify', () => {
  it.each([
    ['Fast API Metrics', 'fast-api-metrics'],
    ['Node Exporter Full', 'node-exporter-full'],
    ['  K8s / Views: Pods ', 'k8s-views-pods'],
  ])('%s', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });
});
