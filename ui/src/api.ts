// Typed fetch wrappers for the server's Grafana-compatible HTTP API. A 401
// from any call but the login itself sends the browser to the login page.
import type { Dashboard, DashboardMeta, DataSourceSettings } from './dashboard/model';
import { type FrameJSON, frameFromJSON, type QueryResult } from './data/frame';
import { loginUrl, navigate } from './router';

/** A failed call: the HTTP status and the server's message. */
export class ApiError extends Error {
  readonly status: number;
  readonly data: unknown;
  constructor(status: number, message: string, data?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.data = data;
  }
}

export interface User {
  id: number;
  login: string;
  name: string;
  email: string;
  isGrafanaAdmin: boolean;
  orgId: number;
  /** Anonymous viewer access (no session): the top bar offers to sign in. */
  isAnonymous?: boolean;
  /** Whether the user's password is still the default one. */
  isDefaultPassword?: boolean;
}

export interface FrontendSettings {
  datasources: Record<string, DataSourceSettings>;
  defaultDatasource: string;
  buildInfo?: { version?: string; commit?: string; edition?: string };
  anonymousEnabled?: boolean;
  [key: string]: unknown;
}

export interface SearchHit {
  id: number;
  uid: string;
  title: string;
  uri?: string;
  url: string;
  slug?: string;
  type: 'dash-db' | 'dash-folder';
  tags: string[];
  isStarred?: boolean;
  folderUid?: string;
  folderTitle?: string;
  folderUrl?: string;
}

export interface SearchParams {
  query?: string;
  type?: 'dash-db' | 'dash-folder';
  folderUIDs?: string[];
  tag?: string[];
}

export interface Folder {
  id: number;
  uid: string;
  title: string;
  url?: string;
}

export interface DashboardResponse {
  dashboard: Dashboard;
  meta: DashboardMeta;
}

/** The body of `POST /api/ds/query`, variables already interpolated. */
export interface DsQueryRequest {
  from: string;
  to: string;
  queries: DsQuery[];
}

export interface DsQuery {
  refId: string;
  datasource: { type?: string; uid?: string };
  expr?: string;
  intervalMs?: number;
  maxDataPoints?: number;
  [key: string]: unknown;
}

/** `/api/ds/query`'s answer with every frame decoded, by refId. */
export interface DsQueryResponse {
  results: Record<string, QueryResult>;
}

interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** When false, a 401 is an ordinary error (the login form's wrong password). */
  redirectOn401?: boolean;
  /** Statuses other than 2xx that still carry an answer to decode (207 of ds/query is 2xx anyway). */
  acceptStatus?: number[];
}

// A message from Grafana's error shapes: {"message"}, {"error"}, or plain text.
function messageOf(status: number, data: unknown, text: string): string {
  if (data && typeof data === 'object') {
    const d = data as { message?: unknown; error?: unknown };
    if (typeof d.message === 'string' && d.message !== '') return d.message;
    if (typeof d.error === 'string' && d.error !== '') return d.error;
  }
  if (text.trim() !== '') return text.trim().slice(0, 500);
  return `HTTP ${status}`;
}

/** Where a 401 sends the browser; tests replace it. */
export let onUnauthorized = (): void => {
  navigate(loginUrl({ path: window.location.pathname, search: window.location.search }), { replace: true });
};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** One call to the API: JSON in and out, same-origin credentials, the org header on writes. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Grafana-Org-Id'] = '1';
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, `Network error: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await response.text();
  let data: unknown;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (response.status === 401 && options.redirectOn401 !== false) {
    onUnauthorized();
  }
  if (!response.ok && !options.acceptStatus?.includes(response.status)) {
    throw new ApiError(response.status, messageOf(response.status, data, text), data);
  }
  return data as T;
}

// ---- Login, user ----

export interface LoginResult {
  message: string;
  redirectUrl?: string;
  /** The server's word on whether the password used is the default (Grafana's UI checks for `admin`). */
  isDefaultPassword?: boolean;
}

/** `POST /login`; a wrong password or a rate limit is an ApiError (401 / 429) with the server's message. */
export function login(user: string, password: string): Promise<LoginResult> {
  clearCaches();
  return request<LoginResult>('POST', '/login', { body: { user, password }, redirectOn401: false });
}

/** Ends the session: the server clears the cookie and redirects to the login page. */
export function logout(): void {
  clearCaches();
  window.location.assign('/logout');
}

export function getUser(signal?: AbortSignal): Promise<User> {
  return request<User>('GET', '/api/user', { signal });
}

let userCache: Promise<User> | undefined;

/** The signed-in user, fetched once per session (the top bar shows it on every page). */
export function currentUser(): Promise<User> {
  if (!userCache) {
    userCache = getUser();
    userCache.catch(() => {
      userCache = undefined;
    });
  }
  return userCache;
}

export function changePassword(oldPassword: string, newPassword: string, confirmNew: string) {
  return request<{ message: string }>('PUT', '/api/user/password', {
    body: { oldPassword, newPassword, confirmNew },
  });
}

// ---- Settings, datasources ----

let settingsCache: Promise<FrontendSettings> | undefined;

/** The frontend settings, fetched once per session (datasources and the default one). */
export function getFrontendSettings(): Promise<FrontendSettings> {
  if (!settingsCache) {
    settingsCache = request<FrontendSettings>('GET', '/api/frontend/settings');
    settingsCache.catch(() => {
      settingsCache = undefined;
    });
  }
  return settingsCache;
}

function clearCaches(): void {
  settingsCache = undefined;
  userCache = undefined;
}

/** The settings' datasources as a list. */
export function datasourceList(settings: FrontendSettings): DataSourceSettings[] {
  return Object.entries(settings.datasources ?? {}).map(([name, ds]) => ({ ...ds, name: ds.name ?? name }));
}

/** A datasource by uid, by name, or the default one when `ref` is empty. */
export function findDatasource(
  settings: FrontendSettings,
  ref: string | { uid?: string; type?: string } | null | undefined,
): DataSourceSettings | undefined {
  const list = datasourceList(settings);
  if (ref === null || ref === undefined || ref === '' || ref === 'default') {
    return list.find((d) => d.name === settings.defaultDatasource) ?? list.find((d) => d.isDefault);
  }
  if (typeof ref === 'string') return list.find((d) => d.uid === ref || d.name === ref);
  if (ref.uid) return list.find((d) => d.uid === ref.uid || d.name === ref.uid);
  if (ref.type) return list.find((d) => d.type === ref.type);
  return findDatasource(settings, undefined);
}

// ---- Search, dashboards, folders ----

export function search(params: SearchParams = {}, signal?: AbortSignal): Promise<SearchHit[]> {
  const q = new URLSearchParams();
  if (params.query) q.set('query', params.query);
  if (params.type) q.set('type', params.type);
  for (const f of params.folderUIDs ?? []) q.append('folderUIDs', f);
  for (const t of params.tag ?? []) q.append('tag', t);
  const qs = q.toString();
  return request<SearchHit[]>('GET', `/api/search${qs ? `?${qs}` : ''}`, { signal });
}

export function getDashboard(uid: string, signal?: AbortSignal): Promise<DashboardResponse> {
  return request<DashboardResponse>('GET', `/api/dashboards/uid/${encodeURIComponent(uid)}`, { signal });
}

export function getFolders(signal?: AbortSignal): Promise<Folder[]> {
  return request<Folder[]>('GET', '/api/folders', { signal });
}

// ---- Queries ----

interface RawQueryResult {
  status?: number;
  error?: string;
  frames?: FrameJSON[];
}

/** Decodes the server's `{"results":{refId:{status,error?,frames}}}`. */
export function decodeQueryResponse(raw: unknown): DsQueryResponse {
  const results: Record<string, QueryResult> = {};
  const map = (raw as { results?: Record<string, RawQueryResult> } | null)?.results ?? {};
  for (const [refId, r] of Object.entries(map)) {
    const frames = (r.frames ?? []).map((f) => {
      const frame = frameFromJSON(f);
      frame.refId ??= refId;
      return frame;
    });
    results[refId] = { refId, frames, error: r.error, status: r.status };
  }
  return { results };
}

/**
 * Runs panel queries (`POST /api/ds/query`). 207 (some queries failed) is an
 * answer: each failed refId carries its error. A bad request (400) answered
 * with results also decodes; otherwise it throws ApiError.
 */
export async function dsQuery(body: DsQueryRequest, signal?: AbortSignal): Promise<DsQueryResponse> {
  const raw = await request<unknown>('POST', '/api/ds/query', { body, signal, acceptStatus: [400, 500] });
  const decoded = decodeQueryResponse(raw);
  if (Object.keys(decoded.results).length === 0 && raw && typeof raw === 'object' && 'message' in raw) {
    throw new ApiError(400, String((raw as { message: unknown }).message), raw);
  }
  return decoded;
}

/** Parameters of a proxied datasource call; arrays repeat the key (`match[]`). */
export type ProxyParams = Record<string, string | number | string[] | undefined>;

/** A datasource API fetcher: GET `<path>` of the datasource through the server's proxy, decoded JSON. */
export type ProxyFetcher = (path: string, params?: ProxyParams, signal?: AbortSignal) => Promise<unknown>;

/** The proxy fetcher for datasource `dsUid` (variable queries, editor completion). */
export function datasourceProxy(dsUid: string): ProxyFetcher {
  return (path, params = {}, signal) => {
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) q.append(key, v);
      else q.set(key, String(value));
    }
    const qs = q.toString();
    const clean = path.replace(/^\/+/, '');
    return request<unknown>(
      'GET',
      `/api/datasources/proxy/uid/${encodeURIComponent(dsUid)}/${clean}${qs ? `?${qs}` : ''}`,
      { signal },
    );
  };
}
