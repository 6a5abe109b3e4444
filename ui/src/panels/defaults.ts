// Grafana's panel-plugin defaults for field config: what a panel's saved JSON may leave out and Grafana
// fills in when the plugin loads (colour mode per panel type, the green/red-at-80 thresholds).
import type { Panel } from '../dashboard/model';
import type { FieldConfig, FieldConfigSource, ThresholdsConfig } from '../data/fieldConfig';
import type { DataFrame } from '../data/frame';

/** The thresholds every new Grafana field starts with. */
export const DEFAULT_THRESHOLDS: ThresholdsConfig = {
  mode: 'absolute',
  steps: [
    { value: null, color: 'green' },
    { value: 80, color: 'red' },
  ],
};

/** Colour mode a panel type's plugin defaults to: graphs colour series by palette, the rest by thresholds. */
export function defaultColorMode(type: string): string {
  return type === 'timeseries' || type === 'graph' ? 'palette-classic' : 'thresholds';
}

/**
 * The panel's field config with the plugin defaults under it, as Grafana has it once the plugin loaded:
 * pass this (not `panel.fieldConfig`) to applyFieldOverrides so a panel saved without a colour or
 * thresholds draws as in Grafana.
 */
export function fieldConfigWithDefaults(panel: Panel): FieldConfigSource {
  const source = panel.fieldConfig ?? { defaults: {}, overrides: [] };
  const defaults: FieldConfig = { ...(source.defaults ?? {}) };
  if (!defaults.color?.mode)
    defaults.color = { ...(defaults.color ?? {}), mode: defaultColorMode(panel.type) };
  if (!defaults.thresholds) defaults.thresholds = structuredClone(DEFAULT_THRESHOLDS);
  return { defaults, overrides: source.overrides ?? [] };
}

/**
 * Frames whose non-time fields lack a colour mode get the panel type's default (a safety net when the
 * caller applied the bare field config); fields that have one are returned untouched.
 */
export function withColorDefaults(frames: DataFrame[], type: string): DataFrame[] {
  const mode = defaultColorMode(type);
  let changed = false;
  const out = frames.map((frame) => {
    let frameChanged = false;
    const fields = frame.fields.map((f) => {
      if (f.type === 'time' || f.config.color?.mode) return f;
      frameChanged = true;
      const config: FieldConfig = { ...f.config, color: { ...(f.config.color ?? {}), mode } };
      if (mode === 'thresholds' && !config.thresholds) config.thresholds = DEFAULT_THRESHOLDS;
      return { ...f, config };
    });
    if (!frameChanged) return frame;
    changed = true;
    return { ...frame, fields };
  });
  return changed ? out : frames;
}
