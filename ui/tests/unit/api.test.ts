// The API client: headers, error messages, the 401 redirect, the datasource proxy's URLs, frame decoding.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  datasourceProxy,
  decodeQueryResponse,
  type FrontendSettings,
  findDatasource,
  login,
  request,
  setUnauthorizedHandler,
} from '../../src/api';

type Call = [string, RequestInit];

function stubFetch(status: number, body: string): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return new Response(body, { status });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe('request', () => {
  it('sends the org header on writes only, JSON and same-origin credentials always', async () => {
    const calls = stubFetch(200, '{}');
    await request('GET', '/api/search');
    await request('PUT', '/api/user/password', { body: { a: 1 } });
    const [get, put] = calls.map(([, init]) => init);
    expect((get.headers as Record<string, string>)['X-Grafana-Org-Id']).toBeUndefined();
    expect((put.headers as Record<string, string>)['X-Grafana-Org-Id']).toBe('1');
    expect((put.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(put.body).toBe('{"a":1}');
    expect(get.credentials).toBe('same-origin');
  });

  it.each([
    [404, '{"message":"Dashboard not found"}', 'Dashboard not found'],
    [400, '{"status":"error","error":"parse error"}', 'parse error'],
    [502, 'upstream down', 'upstream down'],
    [500, '', 'HTTP 500'],
  ])('a %i says why: %s', async (status, body, message) => {
    stubFetch(status, body);
    await expect(request('GET', '/x')).rejects.toMatchObject({ name: 'ApiError', status, message });
  });

  it('sends a 401 to the login page, except for the login itself', async () => {
    const redirect = vi.fn();
    setUnauthorizedHandler(redirect);
    stubFetch(401, '{"message":"Unauthorized"}');
    await expect(request('GET', '/api/user')).rejects.toBeInstanceOf(ApiError);
    expect(redirect).toHaveBeenCalledTimes(1);
    await expect(login('admin', 'nope')).rejects.toMatchObject({ status: 401, message: 'Unauthorized' });
    expect(redirect).toHaveBeenCalledTimes(1);
  });
});

describe('datasourceProxy', () => {
  it('builds the proxy URL with repeated parameters', async () => {
    const calls = stubFetch(200, '{"status":"success","data":["a"]}');
    const fetcher = datasourceProxy('my prom');
    const out = await fetcher('/api/v1/series', { 'match[]': ['up', 'x{a="b"}'], start: 10, end: undefined });
    expect(out).toEqual({ status: 'success', data: ['a'] });
    expect(calls[0][0]).toBe(
      '/api/datasources/proxy/uid/my%20prom/api/v1/series?match%5B%5D=up&match%5B%5D=x%7Ba%3D%22b%22%7D&start=10',
    );
  });
});

describe('findDatasource', () => {
  const settings: FrontendSettings = {
    defaultDatasource: 'Prom',
    datasources: {
      Prom: { uid: 'p1', name: 'Prom', type: 'prometheus', jsonData: {} },
      Logs: { uid: 'l1', name: 'Logs', type: 'loki', jsonData: {} },
    },
  };
  it.each<[Parameters<typeof findDatasource>[1], string | undefined]>([
    [undefined, 'p1'],
    ['default', 'p1'],
    ['l1', 'l1'],
    ['Logs', 'l1'],
    [{ uid: 'Logs' }, 'l1'],
    [{ type: 'loki' }, 'l1'],
    ['nope', undefined],
  ])('%j -> %s', (ref, uid) => {
    expect(findDatasource(settings, ref)?.uid).toBe(uid);
  });
});

describe('decodeQueryResponse', () => {
  it('decodes frames per refId, restores NaN and fills a missing frame refId', () => {
    const out = decodeQueryResponse({
      results: {
        A: {
          status: 200,
          frames: [
            {
              schema: {
                fields: [
                  { name: 'Time', type: 'time' },
                  { name: 'Value', type: 'number' },
                ],
              },
              data: {
                values: [
                  [1, 2],
                  [null, 0],
                ],
                entities: [null, { NaN: [1] }],
              },
            },
          ],
        },
        B: { status: 400, error: 'bad' },
      },
    });
    expect(out.results.A.frames[0].refId).toBe('A');
    expect(out.results.A.frames[0].length).toBe(2);
    expect(out.results.A.frames[0].fields[1].values[1]).toBeNaN();
    expect(out.results.B).toEqual({ refId: 'B', frames: [], error: 'bad', status: 400 });
  });
});
