// TEMPORARY shim for src/dashboard/variables.ts (lane ui-time); deleted once it is merged.
// Only what the shell needs to run before the real module lands: custom, constant, textbox, interval,
// datasource and label_values() query variables; no sort, no chained refresh order beyond list order.
import type { ProxyFetcher } from '../api';
import type { DataSourceSettings, Variable, VariableOption } from '../dashboard/model';
import type { BuiltinValue } from './interval';

export const ALL_VALUE = '$__all';

export interface VariableLoadContext {
  datasources: DataSourceSettings[];
  defaultDatasource: string;
  fetcher: (dsUid: string) => ProxyFetcher;
  range: { from: number; to: number };
}

function values(v: Variable): string[] {
  const cur = v.current?.value;
  if (cur === undefined) return [];
  const list = Array.isArray(cur) ? cur : [cur];
  if (list.includes(ALL_VALUE)) {
    if (v.allValue) return [v.allValue];
    return (v.options ?? []).map((o) => String(o.value)).filter((x) => x !== ALL_VALUE);
  }
  return list.map(String);
}

const escapeRegex = (s: string) => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

export function interpolate(
  text: string,
  vars: Variable[],
  scoped: Record<string, BuiltinValue> = {},
  format?: string,
): string {
  return text.replace(/\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a, f, b, c) => {
    const name: string = a ?? b ?? c;
    if (name in scoped) return String(scoped[name]);
    const v = vars.find((x) => x.name === name);
    if (!v) return whole;
    const list = values(v);
    const fmt = f ?? format;
    const isAllCustom = v.allValue && Array.isArray(v.current?.value) && v.current.value.includes(ALL_VALUE);
    if (isAllCustom) return v.allValue ?? '';
    if ((fmt === 'prometheus' || fmt === 'loki' || fmt === 'regex') && (v.multi || v.includeAll)) {
      const esc = list.map(escapeRegex);
      return esc.length === 1 ? esc[0] : `(${esc.join('|')})`;
    }
    if (fmt === 'pipe') return list.join('|');
    return list.length === 1 ? list[0] : `{${list.join(',')}}`;
  });
}

export function usesVariable(text: string, name: string): boolean {
  return new RegExp(`\\$\\{${name}(?::\\w+)?\\}|\\[\\[${name}\\]\\]|\\$${name}\\b`).test(text);
}

function queryText(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '');
}

export function dependsOn(v: Variable, name: string): boolean {
  return usesVariable(queryText(v), name) || usesVariable(JSON.stringify(v.datasource ?? ''), name);
}

export async function loadOptions(
  v: Variable,
  vars: Variable[],
  ctx: VariableLoadContext,
): Promise<VariableOption[]> {
  let opts: VariableOption[] = [];
  const q = interpolate(queryText(v), vars, {}, 'regex');
  if (v.type === 'custom') {
    opts = q
      .split(/(?<!\\),/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const m = /^(.+?)\s:\s(.+)$/.exec(s);
        return m ? { text: m[1], value: m[2] } : { text: s, value: s };
      });
  } else if (v.type === 'interval') {
    opts = q
      .split(',')
      .map((s) => ({ text: s.trim(), value: s.trim() }))
      .filter((o) => o.text);
  } else if (v.type === 'constant' || v.type === 'textbox') {
    return [{ text: q, value: q }];
  } else if (v.type === 'datasource') {
    opts = ctx.datasources.filter((d) => d.type === q).map((d) => ({ text: d.name, value: d.name }));
  } else if (v.type === 'query') {
    const dsName = interpolate(v.datasource?.uid ?? '', vars);
    const ds =
      ctx.datasources.find((d) => d.uid === dsName || d.name === dsName) ??
      ctx.datasources.find((d) => d.name === ctx.defaultDatasource);
    const m = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(q.trim());
    if (ds && m) {
      const fetch = ctx.fetcher(ds.uid);
      const params: Record<string, string | string[]> = {
        start: String(Math.floor(ctx.range.from / 1000)),
        end: String(Math.ceil(ctx.range.to / 1000)),
      };
      if (m[1]) params['match[]'] = [m[1]];
      const res = (await fetch(`api/v1/label/${m[2]}/values`, params)) as { data?: string[] };
      opts = (res.data ?? []).map((s) => ({ text: s, value: s }));
    }
  }
  if (v.regex) {
    try {
      const re = new RegExp(v.regex.replace(/^\/(.*)\/[a-z]*$/, '$1'));
      opts = opts.filter((o) => re.test(String(o.value)));
    } catch {
      // A bad regex keeps every option.
    }
  }
  if (v.includeAll) opts = [{ text: 'All', value: ALL_VALUE }, ...opts];
  return opts;
}
