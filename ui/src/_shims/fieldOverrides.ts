// TEMPORARY shim for src/data/fieldOverrides.ts (lane ui-data); deleted once it is merged.
import type { FieldConfigSource } from '../data/fieldConfig';
import type { DataFrame } from '../data/frame';

export function applyFieldOverrides(
  frames: DataFrame[],
  source: FieldConfigSource,
  _replaceVariables: (text: string) => string,
): DataFrame[] {
  return frames.map((f) => ({
    ...f,
    fields: f.fields.map((field) => ({ ...field, config: { ...source.defaults, ...field.config } })),
  }));
}
