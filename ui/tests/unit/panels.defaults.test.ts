// Grafana's panel-plugin field config defaults (colour mode per panel type, default thresholds).
import { describe, expect, it } from 'vitest';
import type { Panel } from '../../src/dashboard/model';
import type { DataFrame } from '../../src/data/frame';
import { DEFAULT_THRESHOLDS, fieldConfigWithDefaults, withColorDefaults } from '../../src/panels/defaults';

const panel = (type: string, fieldConfig?: Panel['fieldConfig']): Panel => ({
  id: 1,
  type,
  gridPos: { x: 0, y: 0, w: 1, h: 1 },
  fieldConfig,
});

describe('fieldConfigWithDefaults', () => {
  it.each([
    ['timeseries', 'palette-classic'],
    ['stat', 'thresholds'],
    ['gauge', 'thresholds'],
    ['table', 'thresholds'],
  ])('%s defaults to %s colours and Grafana thresholds', (type, mode) => {
    const fc = fieldConfigWithDefaults(panel(type));
    expect(fc.defaults.color?.mode).toBe(mode);
    expect(fc.defaults.thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(fc.overrides).toEqual([]);
  });
  it('keeps what the panel sets', () => {
    const fc = fieldConfigWithDefaults(
      panel('timeseries', {
        defaults: {
          color: { mode: 'fixed', fixedColor: 'red' },
          thresholds: { mode: 'percentage', steps: [] },
        },
        overrides: [{ matcher: { id: 'byName', options: 'a' }, properties: [] }],
      }),
    );
    expect(fc.defaults.color).toEqual({ mode: 'fixed', fixedColor: 'red' });
    expect(fc.defaults.thresholds?.mode).toBe('percentage');
    expect(fc.overrides).toHaveLength(1);
  });
  it('a colour without a mode gets the mode, keeping the rest', () => {
    const fc = fieldConfigWithDefaults(
      panel('stat', { defaults: { color: { mode: '', fixedColor: 'x' } }, overrides: [] }),
    );
    expect(fc.defaults.color).toEqual({ mode: 'thresholds', fixedColor: 'x' });
  });
});

describe('withColorDefaults', () => {
  const frame: DataFrame = {
    length: 1,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: [1] },
      { name: 'a', type: 'number', config: {}, values: [1] },
      { name: 'b', type: 'number', config: { color: { mode: 'fixed', fixedColor: 'red' } }, values: [1] },
    ],
  };
  it('fills only fields without a colour mode', () => {
    const [out] = withColorDefaults([frame], 'timeseries');
    expect(out.fields.map((f) => f.config.color?.mode)).toEqual([undefined, 'palette-classic', 'fixed']);
    const [stat] = withColorDefaults([frame], 'stat');
    expect(stat.fields[1].config.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });
  it('returns the same frames when nothing is missing', () => {
    const done = withColorDefaults([frame], 'timeseries');
    expect(withColorDefaults(done, 'timeseries')).toBe(done);
  });
});
