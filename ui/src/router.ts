// A tiny history router (pushState/popstate) and the URL state of the
// dashboard and Explore pages, read and written without reloading the page.
import { useEffect, useState } from 'preact/hooks';

/** The pages the app knows, matched from a path. */
export type Route =
  | { name: 'login' }
  | { name: 'browse'; folderUid?: string }
  | { name: 'dashboard'; uid: string; slug?: string }
  | { name: 'explore' }
  | { name: 'password' }
  | { name: 'notFound'; path: string };

export function matchRoute(path: string): Route {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (clean === '/login') return { name: 'login' };
  if (clean === '/' || clean === '/dashboards') return { name: 'browse' };
  if (clean === '/explore') return { name: 'explore' };
  if (clean === '/profile/password') return { name: 'password' };
  const f = /^\/dashboards\/f\/([^/]+)(?:\/[^/]*)?$/.exec(clean);
  if (f) return { name: 'browse', folderUid: decodeURIComponent(f[1]) };
  const d = /^\/d\/([^/]+)(?:\/([^/]+))?$/.exec(clean);
  if (d) return { name: 'dashboard', uid: decodeURIComponent(d[1]), slug: d[2] && decodeURIComponent(d[2]) };
  return { name: 'notFound', path };
}

/** Where the browser is: path and query string (with its leading `?`, or empty). */
export interface Location {
  path: string;
  search: string;
}

// The event our own pushState/replaceState calls raise: the browser raises
// popstate only for back/forward, so in-app navigation announces itself.
const CHANGE = 'vigil:locationchange';

function current(): Location {
  return { path: window.location.pathname, search: window.location.search };
}

/** Goes to `to` (a path with an optional query) without reloading. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
  if (!options.replace) window.scrollTo(0, 0);
}

/** Changes only the query string of the current page; `replace` keeps no history entry. */
export function setSearch(search: string, options: { replace?: boolean } = {}): void {
  const q = search === '' || search === '?' ? '' : search.startsWith('?') ? search : `?${search}`;
  if (q === window.location.search) return;
  const to = window.location.pathname + q + window.location.hash;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

/** Calls `listener` on every change of location (in-app or back/forward); returns the unsubscriber. */
export function onLocationChange(listener: (loc: Location) => void): () => void {
  const handler = () => listener(current());
  window.addEventListener('popstate', handler);
  window.addEventListener(CHANGE, handler);
  return () => {
    window.removeEventListener('popstate', handler);
    window.removeEventListener(CHANGE, handler);
  };
}

/** The current location, re-rendering the caller when it changes. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => onLocationChange(setLoc), []);
  return loc;
}

/** A same-origin path to go back to after logging in; anything else (another origin, `//host`) gives `/`. */
export function safeRedirect(to: string | null | undefined): string {
  if (!to?.startsWith('/') || to.startsWith('//') || to.startsWith('/\\')) return '/';
  return to;
}

/** The login page's URL that comes back to `loc` afterwards. */
export function loginUrl(loc: Location): string {
  if (loc.path === '/login') return `/login${loc.search}`;
  return `/login?redirectTo=${encodeURIComponent(loc.path + loc.search)}`;
}

/** Lower-case words joined by dashes, as Grafana makes dashboard slugs. */
export function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

// ---- Dashboard URL state ----

/** What a dashboard URL carries: time range, variables, refresh, full-screen panel, inspect drawer. */
export interface DashboardUrlState {
  from?: string;
  to?: string;
  /** `var-<name>` values; a name repeated for multi-value variables. */
  vars: Record<string, string[]>;
  refresh?: string;
  viewPanel?: string;
  inspect?: string;
  /** Inspect drawer tab (`data`, `query`, `json`). */
  inspectTab?: string;
}

const DASHBOARD_KEYS = new Set(['from', 'to', 'refresh', 'viewPanel', 'inspect', 'inspectTab']);

export function readDashboardUrlState(search: string): DashboardUrlState {
  const params = new URLSearchParams(search);
  const state: DashboardUrlState = { vars: {} };
  for (const [key, value] of params) {
    if (key.startsWith('var-')) {
      const name = key.slice(4);
      if (name !== '') {
        state.vars[name] ??= [];
        state.vars[name].push(value);
      }
    } else if (key === 'from') state.from = value;
    else if (key === 'to') state.to = value;
    else if (key === 'refresh') state.refresh = value;
    else if (key === 'viewPanel') state.viewPanel = value;
    else if (key === 'inspect') state.inspect = value;
    else if (key === 'inspectTab') state.inspectTab = value;
  }
  return state;
}

/**
 * The query string for `state`, keeping every parameter of `base` the state
 * does not own (e.g. `orgId`, `kiosk`). Order: from, to, vars, refresh, the rest.
 */
export function writeDashboardUrlState(state: DashboardUrlState, base = ''): string {
  const params = new URLSearchParams();
  if (state.from !== undefined) params.set('from', state.from);
  if (state.to !== undefined) params.set('to', state.to);
  for (const [name, values] of Object.entries(state.vars)) {
    for (const v of values) params.append(`var-${name}`, v);
  }
  if (state.refresh) params.set('refresh', state.refresh);
  if (state.viewPanel !== undefined) params.set('viewPanel', state.viewPanel);
  if (state.inspect !== undefined) params.set('inspect', state.inspect);
  if (state.inspectTab !== undefined) params.set('inspectTab', state.inspectTab);
  for (const [key, value] of new URLSearchParams(base)) {
    if (!key.startsWith('var-') && !DASHBOARD_KEYS.has(key)) params.append(key, value);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

// ---- Explore URL state ----

/** One query of an Explore pane, as Grafana writes it in `panes`. */
export interface ExploreQuery {
  refId: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

/** One Explore pane: its datasource uid, queries and time range. */
export interface ExplorePane {
  datasource?: string;
  queries: ExploreQuery[];
  range: { from: string; to: string };
  [key: string]: unknown;
}

/**
 * Explore's state from `?schemaVersion=1&panes={"<id>":{...}}` (Grafana 10+),
 * or from the older `?left={...}`; the first pane only. Undefined when the
 * URL has none or it is not valid JSON.
 */
export function readExploreState(search: string): ExplorePane | undefined {
  const params = new URLSearchParams(search);
  const panes = params.get('panes');
  try {
    if (panes) {
      const parsed = JSON.parse(panes) as Record<string, Partial<ExplorePane>>;
      const first = Object.values(parsed)[0];
      if (first && typeof first === 'object') return normalizePane(first);
      return undefined;
    }
    const left = params.get('left');
    if (left) {
      const parsed = JSON.parse(left) as Partial<ExplorePane>;
      if (parsed && typeof parsed === 'object') return normalizePane(parsed);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function normalizePane(p: Partial<ExplorePane>): ExplorePane {
  const range = p.range && typeof p.range === 'object' ? p.range : { from: 'now-1h', to: 'now' };
  return {
    ...p,
    datasource: typeof p.datasource === 'string' ? p.datasource : undefined,
    queries: Array.isArray(p.queries) ? p.queries : [],
    range: { from: String(range.from ?? 'now-1h'), to: String(range.to ?? 'now') },
  };
}

/** The query string for one Explore pane, in Grafana's `panes` form (pane id `a`). */
export function writeExploreState(pane: ExplorePane, base = ''): string {
  const params = new URLSearchParams();
  params.set('schemaVersion', '1');
  params.set('panes', JSON.stringify({ a: pane }));
  for (const [key, value] of new URLSearchParams(base)) {
    if (key !== 'schemaVersion' && key !== 'panes' && key !== 'left') params.append(key, value);
  }
  return `?${params.toString()}`;
}
