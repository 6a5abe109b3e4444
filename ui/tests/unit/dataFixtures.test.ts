// The real dashboards in the shared fixtures: every unit they use is one we
// know, and each panel's field config applies (and displays) exactly as
// @grafana/data does on Prometheus-shaped frames named after the panel's overrides.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getDisplayProcessor } from '../../src/data/display';
import type { FieldConfigSource } from '../../src/data/fieldConfig';
import { applyFieldOverrides } from '../../src/data/fieldOverrides';
import type { DataFrame } from '../../src/data/frame';
import { unitIds } from '../../src/data/units';
import { fixThresholdsLikeGrafanaApp, grafanaFieldConfigRegistry, loadGrafana } from './oracle';

const SHARED = process.env.VIGIL_SHARED_DIR ?? join(process.cwd(), '../../shared');
const DIR = join(SHARED, 'fixtures/dashboards');

interface PanelJSON {
  title?: string;
  type?: string;
  fieldConfig?: FieldConfigSource;
  panels?: PanelJSON[];
  yaxes?: { format?: string }[];
}

function panelsOf(dash: { panels?: PanelJSON[]; rows?: { panels?: PanelJSON[] }[] }): PanelJSON[] {
  const out: PanelJSON[] = [];
  const walk = (ps: PanelJSON[] | undefined) => {
    for (const p of ps ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dash.panels);
  for (const r of dash.rows ?? []) walk(r.panels);
  return out;
}

const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DIR, f), 'utf8')) }));

function framesFor(source: FieldConfigSource): DataFrame[] {
  const names = new Set<string>(['Value']);
  for (const o of source.overrides ?? []) {
    if (o.matcher.id === 'byName' && typeof o.matcher.options === 'string') names.add(o.matcher.options);
  }
  let n = 0;
  return [...names].map((name, i) => ({
    refId: i % 2 ? 'B' : 'A',
    length: 4,
    fields: [
      { name: 'Time', type: 'time' as const, config: {}, values: [0, 15000, 30000, 45000] },
      {
        name,
        type: 'number' as const,
        labels: { job: `job${n++}`, instance: 'h:9100' },
        config: {},
        values: [i * 10, null, 0.5 + i, 1e6 * i],
      },
    ],
  }));
}

describe('fixture dashboards', () => {
  it('are present', () => expect(dashboards.length).toBeGreaterThan(0));

  it('use only known units', () => {
    const known = new Set(unitIds());
    const unknown: string[] = [];
    for (const { file, json } of dashboards) {
      for (const p of panelsOf(json)) {
        const units = [
          p.fieldConfig?.defaults?.unit,
          ...(p.fieldConfig?.overrides ?? []).flatMap((o) =>
            o.properties.filter((x) => x.id === 'unit').map((x) => x.value as string),
          ),
          ...(p.yaxes ?? []).map((y) => y.format),
        ];
        for (const u of units) {
          if (u && !known.has(u) && !/^(prefix|suffix|si|count|currency|time|bool):/.test(u)) {
            unknown.push(`${file} ${p.title}: ${u}`);
          }
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  const g = loadGrafana();
  const theme = g.createTheme();
  for (const { file, json } of dashboards) {
    it(`${file}: field config applies and displays as in Grafana`, () => {
      for (const p of panelsOf(json)) {
        if (!p.fieldConfig) continue;
        const source = structuredClone(p.fieldConfig);
        source.overrides ??= [];
        // The panel type's custom options: what its defaults and overrides name (none without defaults.custom).
        const customKeys = new Set<string>(Object.keys(source.defaults?.custom ?? {}));
        for (const o of source.overrides) {
          for (const prop of o.properties)
            if (prop.id.startsWith('custom.')) customKeys.add(prop.id.slice(7));
        }
        if (!source.defaults?.custom) customKeys.clear();
        else customKeys.add('__panelOption');
        const ours = applyFieldOverrides(framesFor(source), structuredClone(source));
        const theirs = g.applyFieldOverrides({
          data: framesFor(source),
          fieldConfig: fixThresholdsLikeGrafanaApp(structuredClone(source)),
          fieldConfigRegistry: grafanaFieldConfigRegistry([...customKeys]),
          replaceVariables: (v: string) => v,
          theme,
        });
        const norm = (v: unknown) =>
          JSON.parse(JSON.stringify(v ?? null, (_k, x) => (x === Number.NEGATIVE_INFINITY ? '-Inf' : x)));
        for (let fi = 0; fi < ours.length; fi++) {
          for (let i = 0; i < ours[fi].fields.length; i++) {
            const a = ours[fi].fields[i];
            const b = theirs[fi].fields[i] as unknown as typeof a;
            const where = `${p.title} frame ${fi} field ${a.name}`;
            expect(norm(a.config), where).toEqual(norm(b.config));
            const mine = getDisplayProcessor({ field: a, timeZone: 'utc' });
            const grafana = g.getDisplayProcessor({ field: b, theme, timeZone: 'utc' });
            for (const v of [...a.values, -3.5, 42, 99.5, 12345678]) {
              const x = mine(v);
              const y = grafana(v);
              expect([x.text, x.prefix, x.suffix, x.color, x.percent], `${where} value ${v}`).toEqual([
                y.text,
                y.prefix,
                y.suffix,
                y.color,
                y.percent,
              ]);
            }
          }
        }
      }
    });
  }
});
