// Field display names: Grafana's documented rules by hand, and an oracle
// comparison with @grafana/data's getFieldDisplayName / getFrameDisplayName.
import { describe, expect, it } from 'vitest';
import { formatLabels, getFieldDisplayName, getFrameDisplayName } from '../../src/data/displayName';
import type { DataFrame, Field } from '../../src/data/frame';
import { loadGrafana } from './oracle';

function value(labels?: Record<string, string>, config: Field['config'] = {}, name = 'Value'): Field {
  return { name, type: 'number', labels, config, values: [1] };
}
function frame(fields: Field[], name?: string, refId?: string): DataFrame {
  return {
    name,
    refId,
    fields: [{ name: 'Time', type: 'time', config: {}, values: [0] }, ...fields],
    length: 1,
  };
}

describe('displayName: hand-written cases', () => {
  it('config displayName wins, then the datasource legend', () => {
    const f = value({ job: 'a' }, { displayName: 'Mine', displayNameFromDS: 'legend' });
    expect(getFieldDisplayName(f, frame([f]))).toBe('Mine');
    const g = value({ job: 'a' }, { displayNameFromDS: 'legend a' });
    expect(getFieldDisplayName(g, frame([g]))).toBe('legend a');
  });
  it('a single label name shared by every series shows only its value', () => {
    const a = value({ job: 'api' });
    const b = value({ job: 'db' });
    const frames = [frame([a]), frame([b])];
    expect(getFieldDisplayName(a, frames[0], frames)).toBe('api');
  });
  it('several labels show as {a="b", c="d"}, with the field name before', () => {
    const a = value({ job: 'api', instance: 'h:1' });
    expect(getFieldDisplayName(a, frame([a]))).toBe('{instance="h:1", job="api"}');
    const n = value({ job: 'api', instance: 'h:1' }, {}, 'up');
    expect(getFieldDisplayName(n, frame([n]))).toBe('up {instance="h:1", job="api"}');
  });
  it('a bare Value takes the frame name; differing frame names are prefixed', () => {
    const a = value();
    expect(getFieldDisplayName(a, frame([a], 'cpu'))).toBe('cpu');
    const x = value(undefined, {}, 'x');
    const frames = [frame([x], 'A'), frame([value(undefined, {}, 'x')], 'B')];
    expect(getFieldDisplayName(x, frames[0], frames)).toBe('A x');
  });
  it('duplicate names in a frame are all numbered', () => {
    const a = value(undefined, {}, 'n');
    const b = value(undefined, {}, 'n');
    const fr = frame([a, b]);
    expect(getFieldDisplayName(a, fr)).toBe('n 1');
    expect(getFieldDisplayName(b, fr)).toBe('n 2');
  });
  it('time fields keep their name; frame names', () => {
    const fr = frame([value({ a: '1' })], undefined, 'A');
    expect(getFieldDisplayName(fr.fields[0], fr)).toBe('Time');
    expect(getFrameDisplayName(fr)).toBe('1');
    expect(formatLabels({ b: '2', a: '1' })).toBe('{a="1", b="2"}');
  });
});

describe('displayName: oracle (@grafana/data)', () => {
  const g = loadGrafana();
  const labelSets: (Record<string, string> | undefined)[] = [
    undefined,
    {},
    { job: 'api' },
    { job: 'db' },
    { instance: 'h:9100', job: 'node' },
    { __name__: 'up', job: 'x' },
  ];
  const names = ['Value', 'up', 'Time', ''];
  const configs: Field['config'][] = [
    {},
    { displayName: 'D' },
    { displayNameFromDS: 'legend' },
    { displayName: '' },
  ];
  const frameNames = [undefined, 'A', 'B'];

  it('agrees over generated panels', () => {
    const mismatches: string[] = [];
    let n = 0;
    for (const nameA of frameNames) {
      for (const nameB of frameNames) {
        for (const la of labelSets) {
          for (const lb of labelSets) {
            for (const fname of names) {
              const cfg = configs[n++ % configs.length];
              const build = (): DataFrame[] => [
                frame([value(la, { ...cfg }, fname), value(lb, {}, fname)], nameA, 'A'),
                frame([value(lb, {}, 'Value')], nameB, 'B'),
              ];
              const ours = build();
              const theirs = build();
              for (let fi = 0; fi < ours.length; fi++) {
                for (let i = 0; i < ours[fi].fields.length; i++) {
                  for (const all of [ours, undefined]) {
                    const a = getFieldDisplayName(ours[fi].fields[i], ours[fi], all);
                    const b = g.getFieldDisplayName(
                      theirs[fi].fields[i],
                      theirs[fi],
                      all ? theirs : undefined,
                    );
                    if (a !== b)
                      mismatches.push(
                        `${JSON.stringify(ours[fi])} field ${i} all=${!!all}: ours ${a} grafana ${b}`,
                      );
                  }
                }
                for (const idx of [undefined, fi]) {
                  const a = getFrameDisplayName(ours[fi], idx);
                  const b = (g.getFrameDisplayName as (f: unknown, i?: number) => string)(theirs[fi], idx);
                  if (a !== b)
                    mismatches.push(`frame ${JSON.stringify(ours[fi])} idx=${idx}: ours ${a} grafana ${b}`);
                }
              }
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});
